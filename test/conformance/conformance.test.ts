/**
 * One conformance suite for every engine: each case of ./cases.ts runs, for
 * each of its fixtures, on each engine of ./engines.ts that runs that
 * fixture (test title: `engine | fixture | case`), through the engine's
 * public API (load(grants) -> call). Same results and same error codes
 * everywhere, except what ./limitations.ts documents.
 *
 * Engines needing something outside Node skip loudly when it is missing, and
 * fail instead under AIRLOCK_REQUIRE_<ENGINE>=1 (CI).
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import type { CallLogs, EnginePlugin } from '../../src/engines/types.ts';
import { isAirlockError } from '../../src/errors.ts';
import { loadPlugin } from '../../src/manifest/index.ts';
import { grantsForManifest } from '../helpers/grants.ts';
import { requireExternal } from '../helpers/require.ts';
import { CASES, makeSandbox, type Case, type Expect } from './cases.ts';
import { bridgeGateway } from './docker-env.ts';
import { ENGINES, runsFixture, type ConformanceEngine } from './engines.ts';
import { LIMITATIONS, limitationFor } from './limitations.ts';

// componentize-py comes from PyPI; without it (and outside CI) its fixtures skip loudly, like test/build/fixtures.test.ts.
const hasPy = spawnSync('componentize-py', ['--version']).status === 0;
const PY_FIXTURES = new Set(['echo-py', 'net', 'conformance-dual']);
if (!hasPy && process.env.CI === undefined)
  process.stderr.write('\n!!! SKIPPING conformance cases on componentize-py fixtures: componentize-py is not installed\n\n');

// Local HTTP servers for the network cases; each case sees only the requests made while it ran (cases are serial).
// By default one listens where every engine but Kubernetes can reach it: on Docker's bridge when Docker is there (a
// container's 127.0.0.1 is its own, and the egress proxy's), else on loopback. An engine may name another address
// (ConformanceEngine.httpHost: the Kubernetes engine's Pods reach this machine on the cluster's bridge).
const httpHost = (await bridgeGateway()) ?? '127.0.0.1';
let requests: string[] = [];
const servers = new Map<string, Promise<number>>();
/** The port of the suite's HTTP server on `host`, started on first use. */
function serverOn(host: string): Promise<number> {
  let port = servers.get(host);
  if (port === undefined) {
    const server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(204);
      res.end();
    });
    port = new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve((server.address() as { port: number }).port));
    });
    server.unref();
    servers.set(host, port);
  }
  return port;
}

const manifests = new Map<string, ReturnType<typeof loadPlugin>>();
function fixture(name: string): ReturnType<typeof loadPlugin> {
  let m = manifests.get(name);
  if (m === undefined) {
    m = loadPlugin(join(FIXTURES_DIR, name));
    manifests.set(name, m);
  }
  return m;
}

/** undefined when the result meets the expectation, else what is wrong. */
function mismatch(expect: Expect, got: { output: string; logs: CallLogs } | { error: unknown }): string | undefined {
  if ('error' in expect) {
    if (!('error' in got)) return `expected ${expect.error}, got output ${got.output.slice(0, 200)}`;
    if (!isAirlockError(got.error)) return `expected AirlockError ${expect.error}, got ${String(got.error)}`;
    if (got.error.code !== expect.error) return `expected ${expect.error}, got ${got.error.code}: ${got.error.message}`;
    if (expect.message !== undefined && !expect.message.test(got.error.message))
      return `expected a message matching ${String(expect.message)}, got ${got.error.message}`;
    for (const [k, v] of Object.entries(expect.details ?? {})) {
      if (got.error.details[k] !== v) return `expected details.${k} = ${JSON.stringify(v)}, got ${JSON.stringify(got.error.details[k])}`;
    }
    return undefined;
  }
  if ('error' in got) {
    const e = got.error;
    return `expected output ${String(expect.output)}, got ${isAirlockError(e) ? `${e.code}: ${e.message}` : String(e)}`;
  }
  if (typeof expect.output === 'function') {
    const problem = expect.output(got.output);
    if (problem !== undefined) return `${problem}; got ${JSON.stringify(got.output.slice(0, 300))}`;
  } else {
    const okOutput = typeof expect.output === 'string' ? got.output === expect.output : expect.output.test(got.output);
    if (!okOutput)
      return `expected output ${typeof expect.output === 'string' ? JSON.stringify(expect.output) : String(expect.output)}, got ${JSON.stringify(got.output.slice(0, 300))}`;
  }
  if (typeof expect.logs === 'function') return expect.logs(got.logs);
  if (expect.logs !== undefined) {
    const logs = { stdout: got.logs.stdout, stderr: got.logs.stderr, ...(got.logs.truncated === true ? { truncated: true } : {}) };
    if (JSON.stringify(logs) !== JSON.stringify(expect.logs)) return `expected logs ${JSON.stringify(expect.logs)}, got ${JSON.stringify(logs)}`;
  }
  return undefined;
}

async function runCase(t: ExecutionContext, engine: ConformanceEngine, c: Case, fixtureName: string): Promise<void> {
  if (engine.caseTimeoutMs !== undefined) t.timeout(engine.caseTimeoutMs);
  const m = fixture(fixtureName);
  requests = [];
  const host = (await engine.httpHost?.()) ?? httpHost;
  const sandbox = makeSandbox({ host, port: await serverOn(host), requests });
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(c.hostEnv ?? {})) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  let plugin: EnginePlugin | undefined;
  try {
    const o = c.grants?.(sandbox) ?? {};
    const grants = grantsForManifest(m, o);
    const limitation = limitationFor(engine.id, c.name, fixtureName);
    if (limitation !== undefined && 'load' in limitation.instead) {
      const err = await engine.load(grants).then(
        (p) => {
          plugin = p;
          return undefined;
        },
        (e: unknown) => e,
      );
      t.true(
        isAirlockError(err, limitation.instead.load),
        `documented limitation: ${engine.id} should refuse with ${limitation.instead.load} (${limitation.reason}); got ${err === undefined ? 'a loaded plugin' : String(err)}`,
      );
      t.regex((err as Error | undefined)?.message ?? '', limitation.instead.message);
      return;
    }
    plugin = await engine.load(grants);
    const steps = typeof c.steps === 'function' ? c.steps(sandbox) : c.steps;
    for (const [i, step] of steps.entries()) {
      const expect = limitation !== undefined && 'steps' in limitation.instead ? (limitation.instead.steps[i] ?? step.expect) : step.expect;
      const ac = new AbortController();
      const call = plugin.call(step.tool, JSON.stringify(step.input), {
        ...(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }),
        signal: ac.signal,
      });
      if (step.abort === true) ac.abort();
      const got = await call.then(
        (r) => ({ output: r.output, logs: r.logs }),
        (error: unknown) => ({ error }),
      );
      const problem = mismatch(expect, got);
      t.is(problem, undefined, `step ${i} (${step.tool} ${JSON.stringify(step.input)})${expect === step.expect ? '' : ' [documented limitation]'}`);
    }
    const check = limitation !== undefined && 'steps' in limitation.instead && limitation.instead.check !== undefined ? limitation.instead.check : c.check;
    t.deepEqual(check?.(sandbox) ?? [], [], `host-side checks${check === c.check ? '' : ' [documented limitation]'}`);
  } finally {
    await plugin?.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(sandbox.root, { recursive: true, force: true });
  }
}

const unavailable = await Promise.all(ENGINES.map((e) => e.unavailable()));
test.after.always(() => Promise.all(ENGINES.map((e) => e.close())));

for (const [i, engine] of ENGINES.entries()) {
  const why = unavailable[i];
  const run = engine.external === undefined ? why === undefined : requireExternal(engine.external, why === undefined, why ?? '');
  if (why !== undefined && engine.external === undefined) {
    test(`${engine.id} engine is available`, (t) => t.fail(why));
    continue;
  }
  for (const c of CASES) {
    for (const f of c.fixtures) {
      const m = fixture(f);
      if (!runsFixture(engine, m.runtime, m.manifest.wasm !== undefined)) continue;
      // componentize-py builds components: the Docker engine runs a python entry without it.
      const skipPy = PY_FIXTURES.has(f) && engine.name !== 'docker' && !hasPy && process.env.CI === undefined;
      // Serial: 2 shared cores, and the hostile cases are heavy.
      (run && !skipPy ? test.serial : test.skip)(`${engine.id} | ${f} | ${c.name}`, (t) => runCase(t, engine, c, f));
    }
  }
}

test('the limitations table names real engines and cases, each with a reason', (t) => {
  const names = new Set(CASES.map((c) => c.name));
  t.is(names.size, CASES.length, 'case names are unique');
  for (const l of LIMITATIONS) {
    t.true(
      ENGINES.some((e) => e.id === l.engine),
      l.engine,
    );
    for (const c of l.cases) t.true(names.has(c), `limitation refers to an unknown case: ${c}`);
    for (const f of l.fixtures ?? [])
      t.true(
        CASES.some((c) => l.cases.includes(c.name) && c.fixtures.includes(f)),
        `limitation names fixture ${f}, which none of its cases runs`,
      );
    t.true(l.reason.length > 40, 'a limitation explains itself');
  }
});
