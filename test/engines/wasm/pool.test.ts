/**
 * The worker engine's idle plugins (src/engines/wasm/pool.ts on the slot
 * pool's parking): a parked plugin holds no worker thread, its next call
 * adopts one and answers, and what the instance kept in memory is gone.
 * Threads are counted by their OS name (`airlock:wasm`) in a child process
 * of its own, so no other test's workers are counted.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { BroadcastChannel, type Worker } from 'node:worker_threads';
import { WasmEngine, type WasmPlugin } from '../../../src/engines/wasm/index.ts';
import { isAirlockError } from '../../../src/errors.ts';
import { type GrantsOverrides, makeGrants } from '../../helpers/grants.ts';
import { rejection } from '../../helpers/rejection.ts';
import { fixtureComponent, fixtureGrants } from './helpers.ts';

/** Every worker thread this test file's thread creates, by thread id (Node's `worker_threads` diagnostics channel). */
const workers = new Map<number, Worker>();
subscribe('worker_threads', (m) => {
  const w = (m as { worker: Worker }).worker;
  workers.set(w.threadId, w);
  w.once('exit', () => workers.delete(w.threadId));
});

const engine = new WasmEngine();
test.after.always(() => engine.close());

async function load(fixture: string, o: GrantsOverrides = {}): Promise<WasmPlugin> {
  return engine.load(fixtureGrants(fixture, o), { kind: 'component', path: await fixtureComponent(fixture) });
}

const root = new URL('../../../', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'airlock-park-'));

/** Runs `body` in a fresh Node process with no standby workers and `threads()` counting live wasm worker threads; returns what it printed as JSON. */
async function inChild(body: string): Promise<unknown> {
  const component = await fixtureComponent('state');
  const script = join(dir, `park-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    script,
    `import { readdirSync, readFileSync } from 'node:fs';
     import { WasmEngine } from ${JSON.stringify(new URL('src/engines/wasm/index.ts', root).href)};
     import { fixtureGrants } from ${JSON.stringify(new URL('test/engines/wasm/helpers.ts', root).href)};
     const threads = () => readdirSync('/proc/self/task').filter((t) => {
       try { return readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim() === 'airlock:wasm'; } catch { return false; }
     }).length;
     const count = async (p) => (await p.call('count', '{}')).output;
     // Polls a condition with a generous bound (a busy machine is slow, never wrong).
     const until = async (ok, what) => {
       for (const end = Date.now() + 60_000; !ok(); await new Promise((r) => setTimeout(r, 20))) if (Date.now() > end) throw new Error('not ' + what + ' within 60 s');
     };
     const engine = new WasmEngine({ standby: 0 });
     const component = ${JSON.stringify(component)};
     const out = {};
     ${body}
     await engine.close();
     process.stdout.write(JSON.stringify(out));`,
  );
  const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 120_000 });
  return JSON.parse(stdout);
}

test("park() stops a plugin's worker threads; the next call adopts one and answers from a fresh instance (in-memory state is lost)", async (t) => {
  const out = await inChild(`
     const p = await engine.load(fixtureGrants('state'), { kind: 'component', path: component });
     out.loaded = threads();
     out.before = [await count(p), await count(p)];
     out.parked = await p.park();
     out.afterPark = threads();
     out.after = [await count(p), await count(p)];
     out.woken = threads();`);
  t.deepEqual(out, { loaded: 1, before: ['1', '2'], parked: 1, afterPark: 0, after: ['1', '2'], woken: 1 });
});

test('a plugin granted idleMs parks by itself once idle, and answers the next call', async (t) => {
  const out = await inChild(`
     const p = await engine.load(fixtureGrants('state', { idleMs: 50, resources: { concurrency: 2 } }), { kind: 'component', path: component });
     out.first = await count(p);
     // Both workers, the one that answered and the one that never did.
     await until(() => threads() === 0, 'parked');
     out.parked = threads();
     out.next = await count(p);`);
  t.deepEqual(out, { first: '1', parked: 0, next: '1' });
});

test('a call to a parked plugin still times out and is aborted as usual, and the plugin recovers', async (t) => {
  const p = await load('state', { resources: { concurrency: 1, queue: 0, timeoutMs: 60_000 } });
  t.teardown(() => p.close());
  await p.park();
  t.true(isAirlockError(await rejection(p.call('spin', '{}', { timeoutMs: 300 })), 'timeout'));
  t.is((await p.call('count', '{}')).output, '1', 'the timed-out worker was replaced');
  t.is(await p.park(), 1);
  const ac = new AbortController();
  const spinning = p.call('spin', '{}', { signal: ac.signal });
  ac.abort();
  const err = await rejection(spinning);
  t.true(isAirlockError(err, 'aborted'), err.message);
  t.is((await p.call('count', '{}')).output, '1');
  t.is((await p.call('count', '{}')).output, '2');
});

test('close() of a parked plugin with a call waiting for its worker lets the call finish', async (t) => {
  const p = await load('state');
  await p.park();
  const call = p.call('count', '{}');
  await p.close();
  t.is((await call).output, '1');
});

// ---- Stopping workers without tearing one down mid-start (nodejs/node#64500) ----

test('close() of an idle plugin lets its workers end by themselves (exit code 0), none is terminated', async (t) => {
  const out = await inChild(`
     const { subscribe } = await import('node:diagnostics_channel');
     const exits = [];
     subscribe('worker_threads', ({ worker }) => exits.push(new Promise((r) => worker.once('exit', r))));
     const p = await engine.load(fixtureGrants('state', { isolation: 'per-call', resources: { concurrency: 2 } }), { kind: 'component', path: component });
     out.count = await count(p);
     await p.close();
     out.codes = await Promise.all(exits);`);
  // concurrency 2 plus the per-call spare; a terminated thread exits with 1.
  t.deepEqual(out, { count: '1', codes: [0, 0, 0] });
});

test('close() while a replacement worker is still loading the plugin terminates it only after it finished loading', async (t) => {
  // Glue whose import waits at a gate the test opens (a BroadcastChannel reaches the worker threads).
  const gateName = `airlock-gate-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const glue = join(dir, 'gated-glue.js');
  writeFileSync(
    glue,
    `import { BroadcastChannel, threadId } from 'node:worker_threads';
     const gate = new BroadcastChannel(${JSON.stringify(gateName)});
     await new Promise((resolve) => { gate.onmessage = (e) => e.data === 'go' && resolve(); gate.postMessage(threadId); });
     gate.close();
     export function instantiate() {
       return { 'airlock:plugin/tools@0.1.0': { call: () => { for (;;); } } };
     }`,
  );
  const gate = new BroadcastChannel(gateName);
  t.teardown(() => gate.close());
  const importing: number[] = [];
  let second!: (thread: number) => void;
  const secondImport = new Promise<number>((r) => {
    second = r;
  });
  gate.onmessage = (e) => {
    const thread = (e as { data: number }).data;
    importing.push(thread);
    // The first worker (the load's) passes; the replacement is held until the plugin is closing.
    if (importing.length === 1) gate.postMessage('go');
    else second(thread);
  };
  const seen: string[] = [];
  {
    const gated = new WasmEngine({ standby: 0, transpile: async () => ({ glue: pathToFileURL(glue).href, modules: {} }) });
    const p = await gated.load(makeGrants({ plugin: { name: 'gated' } }), { kind: 'component', path: '/unused.wasm' });
    // The call spins until its timeout kills the worker; the pool starts a replacement, which stops at the gate.
    t.true(isAirlockError(await rejection(p.call('spin', '{}', { timeoutMs: 200 })), 'timeout'));
    const replacement = workers.get(await secondImport) as Worker;
    replacement.on('message', (m: { type?: string }) => m?.type === 'ready' && seen.push('ready'));
    replacement.once('exit', () => seen.push('exit'));
    const closing = p.close();
    // Opened only now: an engine that terminated the replacement at close has already done so.
    gate.postMessage('go');
    await closing;
    seen.push('closed');
    await gated.close();
  }
  t.deepEqual(seen, ['ready', 'exit', 'closed']);
});
