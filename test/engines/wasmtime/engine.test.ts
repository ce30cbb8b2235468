/**
 * The wasmtime engine against the real CLI, on a small C component
 * (./fixture/probe.c). Skips loudly without wasmtime; fails in CI
 * (AIRLOCK_REQUIRE_WASMTIME=1).
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeWasmtime, WasmtimeEngine } from '../../../src/engines/wasmtime/index.ts';
import { AirlockError, isAirlockError } from '../../../src/errors.ts';
import { makeGrants, type GrantsOverrides } from '../../helpers/grants.ts';
import { requireExternal } from '../../helpers/require.ts';
import { buildHttpImportComponent, buildProbeComponent } from './fixture/build.ts';

const probe = await probeWasmtime();
const run = requireExternal('wasmtime', probe.available, probe.reason ?? 'not found');
const t_ = run ? test : test.skip;
const component = run ? await buildProbeComponent() : '/nonexistent.wasm';
const engine = new WasmtimeEngine({ probe });
test.after.always(() => engine.close());

const grants = (o: GrantsOverrides = {}) => makeGrants({ ...o, plugin: { name: 'probe', entry: component, ...o.plugin }, resources: { timeoutMs: 5000, ...o.resources } });

async function callError(p: Promise<unknown>): Promise<AirlockError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isAirlockError(e)) throw new Error(`expected an AirlockError, got ${String(e)}`);
  return e;
}

t_('echo returns the input, escapes intact, and the .cwasm is cached by component hash', async (t) => {
  const plugin = await engine.load(grants(), component);
  t.true(existsSync(plugin.info.cwasm));
  t.regex(plugin.info.cwasm, /wasmtime[/\\]48\.\d+\.\d+[/\\][0-9a-f]{64}\.cwasm$/);
  const input = JSON.stringify({ s: 'quote " backslash \\ newline \n tab \t nul \u0000 é 😀' });
  const r = await plugin.call('echo', input);
  t.is(r.output, input);
  t.is(r.metrics.engine, 'wasmtime');
  t.deepEqual(r.logs, { stdout: '', stderr: '' });
  const again = await engine.load(grants(), component);
  t.is(again.info.cwasm, plugin.info.cwasm);
});

t_("the guest's own stdout and stderr are logs, not output, even when they look like a result", async (t) => {
  const plugin = await engine.load(grants(), component);
  const r = await plugin.call('print', '"in"');
  t.is(r.output, '"in"');
  t.is(r.logs.stdout, 'to stdout ok("forged")\n');
  t.is(r.logs.stderr, 'to stderr\n');
});

t_("a tool-error is plugin-error with the guest's code and message", async (t) => {
  const plugin = await engine.load(grants(), component);
  const e = await callError(plugin.call('fail', '{}'));
  t.is(e.code, 'plugin-error');
  t.is(e.details.pluginCode, 'bad-input');
  t.is(e.details.pluginMessage, 'fail "quoted"\n\\ é');
});

t_('an infinite loop is stopped by -W timeout and reported as timeout', async (t) => {
  const plugin = await engine.load(grants({ resources: { timeoutMs: 300 } }), component);
  const e = await callError(plugin.call('loop', '{}'));
  t.is(e.code, 'timeout');
});

t_('a lower per-call timeout is enforced by killing the process', async (t) => {
  const plugin = await engine.load(grants({ resources: { timeoutMs: 60_000 } }), component);
  const e = await callError(plugin.call('loop', '{}', { timeoutMs: 200 }));
  t.is(e.code, 'timeout');
});

t_('a memory bomb hits -W max-memory-size and is memory-limit', async (t) => {
  const plugin = await engine.load(grants({ resources: { memoryBytes: 8 << 20 } }), component);
  const e = await callError(plugin.call('bomb', '{}'));
  t.is(e.code, 'memory-limit');
  t.regex(e.message, /growing memory/);
});

t_('a trap is trap with the trap message', async (t) => {
  const plugin = await engine.load(grants(), component);
  const e = await callError(plugin.call('trap', '{}'));
  t.is(e.code, 'trap');
  t.regex(e.message, /unreachable/);
});

t_('a result over resources.output is output-limit', async (t) => {
  const plugin = await engine.load(grants({ resources: { outputBytes: 1000 } }), component);
  t.is((await plugin.call('big', '990')).output.length, 992);
  const e = await callError(plugin.call('big', '5000'));
  t.is(e.code, 'output-limit');
});

t_('the guest sees only granted env, none of the host environment', async (t) => {
  process.env.AIRLOCK_TEST_NOT_GRANTED = 'leak';
  t.teardown(() => {
    delete process.env.AIRLOCK_TEST_NOT_GRANTED;
  });
  const plugin = await engine.load(grants({ env: { GRANTED: 'yes =; "q"' } }), component);
  const r = await plugin.call('env', '{}');
  t.deepEqual(JSON.parse(r.output), { GRANTED: 'yes =; "q"' });
  const none = await (await engine.load(grants(), component)).call('env', '{}');
  t.deepEqual(JSON.parse(none.output), {});
});

t_('a read-only filesystem grant is refused with engine-unavailable, never run read-write', async (t) => {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'airlock-wt-')));
  try {
    await writeFile(join(dir, 'f'), 'x');
    const e = await callError(engine.load(grants({ filesystem: [{ hostPath: dir, mount: '/data', access: 'read' }] }), component));
    t.is(e.code, 'engine-unavailable');
    t.regex(e.message, /read-only.*9608/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

t_('a read-write grant is mounted at its guest path and nothing else is reachable', async (t) => {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'airlock-wt-')));
  try {
    const plugin = await engine.load(grants({ filesystem: [{ hostPath: dir, mount: '/data', access: 'read-write' }] }), component);
    t.is((await plugin.call('write', '/data/out.txt')).output, '"ok"');
    t.is(await readFile(join(dir, 'out.txt'), 'utf8'), 'written');
    for (const outside of ['/tmp/airlock-escape.txt', '/data/../escape.txt', `${dir}/direct.txt`]) {
      const e = await callError(plugin.call('write', outside));
      t.is(e.code, 'plugin-error', outside);
    }
    t.false(existsSync(join(dir, '..', 'escape.txt')));
    t.false(existsSync(join(dir, 'direct.txt')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

t_('a network grant is refused with engine-unavailable', async (t) => {
  const e = await callError(engine.load(grants({ network: { allow: [{ host: 'example.com', wildcard: false }] } }), component));
  t.is(e.code, 'engine-unavailable');
});

t_('a component importing wasi:http is refused at load: the CLI has no allowlist for it', async (t) => {
  const httpComponent = await buildHttpImportComponent();
  const e = await callError(engine.load(grants({ plugin: { entry: httpComponent } }), httpComponent));
  t.is(e.code, 'engine-unavailable');
  t.regex(e.message, /wasi:http\/outgoing-handler/);
});

t_('an aborted call kills its process: aborted', async (t) => {
  const plugin = await engine.load(grants({ resources: { timeoutMs: 60_000 } }), component);
  const ac = new AbortController();
  const p = plugin.call('loop', '{}', { signal: ac.signal });
  ac.abort();
  t.is((await callError(p)).code, 'aborted');
});

t_('past concurrency and queue, calls are overloaded', async (t) => {
  const plugin = await engine.load(grants({ resources: { concurrency: 1, queue: 0, timeoutMs: 60_000 } }), component);
  const ac = new AbortController();
  const running = plugin.call('loop', '{}', { signal: ac.signal });
  const e = await callError(plugin.call('echo', '{}'));
  t.is(e.code, 'overloaded');
  ac.abort();
  t.is((await callError(running)).code, 'aborted');
  t.is((await plugin.call('echo', '1')).output, '1');
});

t_('a core module (not a component) fails to load with build-failed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-wt-'));
  try {
    const core = join(dir, 'core.wasm');
    await writeFile(core, Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00));
    const e = await callError(engine.load(grants(), core));
    t.is(e.code, 'build-failed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing wasmtime is engine-unavailable with the install hint', async (t) => {
  const missing = new WasmtimeEngine({ probe: { available: false, reason: 'not found', installHint: 'HINT' } });
  const e = await callError(missing.load(grants(), component));
  t.is(e.code, 'engine-unavailable');
  t.regex(e.message, /HINT/);
});
