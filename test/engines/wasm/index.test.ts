/**
 * WasmEngine end to end on the real fixtures (fixtures/plugins): results,
 * every error code, isolation, queueing, aborts and log capture. The
 * behaviour every engine shares is also in test/conformance; this file
 * covers what is the worker engine's own (pool, queue, aborts, workers).
 */
import test from 'ava';
import { WasmEngine, type WasmPlugin } from '../../../src/engines/wasm/index.ts';
import { isAirlockError, type AirlockError } from '../../../src/errors.ts';
import type { GrantsOverrides } from '../../helpers/grants.ts';
import { fixtureComponent, fixtureGrants } from './helpers.ts';

const engine = new WasmEngine();
test.after.always(() => engine.close());

async function load(fixture: string, o: GrantsOverrides = {}): Promise<WasmPlugin> {
  return engine.load(fixtureGrants(fixture, o), { kind: 'component', path: await fixtureComponent(fixture) });
}

async function code(p: Promise<unknown>): Promise<AirlockError> {
  try {
    await p;
  } catch (e) {
    if (isAirlockError(e)) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

test('a call returns the tool output, empty logs and metrics', async (t) => {
  const p = await load('echo-c');
  const r = await p.call('echo', '{"a":[1,2,"é"]}');
  t.is(r.output, '{"a":[1,2,"é"]}');
  t.deepEqual(r.logs, { stdout: '', stderr: '' });
  t.is(r.metrics.engine, 'wasm');
  t.true(r.metrics.durationMs >= r.metrics.queueMs);
  await p.close();
});

test('large inputs grow the channel and come back intact', async (t) => {
  const p = await load('echo-c', { resources: { outputBytes: 4 << 20 } });
  const big = JSON.stringify('x'.repeat(1 << 20));
  t.is((await p.call('echo', big)).output, big);
  await p.close();
});

test("the guest's tool-error becomes plugin-error with its code and message", async (t) => {
  const p = await load('state');
  const e = await code(p.call('fail', '"it broke"'));
  t.is(e.code, 'plugin-error');
  t.is(e.details.pluginCode, 'bad-thing');
  t.is(e.details.pluginMessage, '"it broke"');
  await p.close();
});

test('pooled isolation keeps the warm instance between calls', async (t) => {
  const p = await load('state');
  t.is((await p.call('count', '{}')).output, '1');
  t.is((await p.call('count', '{}')).output, '2');
  await p.close();
});

test('per-call isolation gives every call a fresh instance, with or without pauses between calls', async (t) => {
  const p = await load('state', { isolation: 'per-call' });
  for (let i = 0; i < 3; i++) t.is((await p.call('count', '{}')).output, '1');
  await new Promise((r) => setImmediate(r));
  // Calls at once on one worker: the second waits for the first's instance to be replaced.
  const outs = await Promise.all([p.call('count', '{}'), p.call('count', '{}'), p.call('count', '{}')]);
  t.deepEqual(
    outs.map((o) => o.output),
    ['1', '1', '1'],
  );
  await p.close();
});

test("per-call isolation's standby worker never raises concurrency: one call at a time means one", async (t) => {
  const p = await load('state', { isolation: 'per-call', resources: { concurrency: 1, queue: 0, timeoutMs: 60_000 } });
  const ac = new AbortController();
  const running = code(p.call('spin', '{}', { signal: ac.signal }));
  t.is((await code(p.call('count', '{}'))).code, 'overloaded');
  ac.abort();
  t.is((await running).code, 'aborted');
  t.is((await p.call('count', '{}')).output, '1');
  await p.close();
});

test('a trap is reported as trap and the instance is replaced, not reused', async (t) => {
  const p = await load('state');
  await p.call('count', '{}');
  const e = await code(p.call('boom', '{}'));
  t.is(e.code, 'trap');
  t.regex(e.message, /unreachable/);
  t.is((await p.call('count', '{}')).output, '1');
  await p.close();
});

test('a tool-error does not replace the instance; its state survives', async (t) => {
  const p = await load('state');
  t.is((await p.call('count', '{}')).output, '1');
  t.is((await code(p.call('fail', '"x"'))).code, 'plugin-error');
  t.is((await p.call('count', '{}')).output, '3');
  await p.close();
});

test('growing past resources.memory is memory-limit, and the plugin recovers', async (t) => {
  const p = await load('membomb', { resources: { memoryBytes: 8 << 20 } });
  const e = await code(p.call('grow', '{}'));
  t.is(e.code, 'memory-limit');
  t.is(e.details.limitBytes, 8 << 20);
  t.is((await code(p.call('grow', '{}'))).code, 'memory-limit');
  await p.close();
});

test('a component whose initial memory is over resources.memory fails to load with memory-limit', async (t) => {
  const e = await code(load('echo-c', { resources: { memoryBytes: 64 * 1024 } }));
  t.is(e.code, 'memory-limit');
});

test('a call past the timeout gets timeout; a fresh worker serves the next call', async (t) => {
  const p = await load('state');
  await p.call('count', '{}');
  // The lower per-call timeout, so the calls around it never race a short limit on a busy machine.
  t.is((await code(p.call('spin', '{}', { timeoutMs: 200 }))).code, 'timeout');
  t.is((await p.call('count', '{}')).output, '1');
  await p.close();
});

test('options.timeoutMs can only lower the granted timeout', async (t) => {
  const p = await load('loop', { resources: { timeoutMs: 60_000 } });
  const e = await code(p.call('spin', '{}', { timeoutMs: 100 }));
  t.is(e.code, 'timeout');
  t.regex(e.message, /100 ms/);
  await p.close();
});

test('output over resources.output is output-limit', async (t) => {
  const p = await load('bigout', { resources: { outputBytes: 1000 } });
  t.is((await p.call('result', '{"bytes":990}')).output.length, 992);
  const e = await code(p.call('result', '{"bytes":2000}'));
  t.is(e.code, 'output-limit');
  t.is(e.details.outputBytes, 2002);
  await p.close();
});

test("stdout and stderr are captured into the call's logs, not the host's stdio", async (t) => {
  const p = await load('state');
  const seen: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: unknown, ...rest: never[]) => (seen.push(String(chunk)), out(chunk as string, ...rest))) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown, ...rest: never[]) => (seen.push(String(chunk)), err(chunk as string, ...rest))) as typeof process.stderr.write;
  try {
    const r = await p.call('print', '"marker-1234"');
    t.deepEqual(r.logs, { stdout: '"marker-1234"\n', stderr: 'err:"marker-1234"\n' });
    await new Promise((r) => setImmediate(r));
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  t.false(seen.some((s) => s.includes('marker-1234')));
  // Logs belong to one call only.
  t.deepEqual((await p.call('count', '{}')).logs, { stdout: '', stderr: '' });
  await p.close();
});

test('logs are cut at resources.logBytes and marked truncated', async (t) => {
  const p = await load('bigout', { resources: { logBytes: 100 } });
  const r = await p.call('stdout', '{"bytes":5000}');
  t.true(r.logs.truncated);
  t.true(r.logs.stdout.startsWith('y'.repeat(100)));
  t.false(r.logs.stdout.startsWith('y'.repeat(101)));
  t.regex(r.logs.stdout, /truncated/);
  await p.close();
});

test('the guest sees only granted env vars, never the host environment', async (t) => {
  process.env.AIRLOCK_TEST_SECRET = 'hunter2';
  const none = await load('env-dump');
  t.is((await none.call('dump', '{}')).output, '[]');
  await none.close();
  const some = await load('env-dump', { env: { GREETING: 'hi' } });
  t.is((await some.call('dump', '{}')).output, '["GREETING=hi"]');
  await some.close();
});

test('asking for 1 GiB of random bytes traps without the host allocating it', async (t) => {
  const p = await load('random-bomb');
  const before = process.memoryUsage().arrayBuffers;
  const e = await code(p.call('bomb', '{}'));
  t.is(e.code, 'trap');
  t.regex(e.message, /random/);
  t.true(process.memoryUsage().arrayBuffers - before < 64 << 20);
  await p.close();
});

test('calls past concurrency + queue are overloaded; aborting a running call kills its worker', async (t) => {
  const p = await load('state', { resources: { concurrency: 1, queue: 1, timeoutMs: 60_000 } });
  await p.call('count', '{}');
  const ac = new AbortController();
  const running = code(p.call('spin', '{}', { signal: ac.signal }));
  const queued = p.call('count', '{}');
  const over = await code(p.call('count', '{}'));
  t.is(over.code, 'overloaded');
  ac.abort();
  t.is((await running).code, 'aborted');
  // The queued call runs on the replacement worker: a fresh instance.
  t.is((await queued).output, '1');
  await p.close();
});

test('aborting a queued call dequeues it without running it', async (t) => {
  const p = await load('loop', { resources: { concurrency: 1, queue: 4, timeoutMs: 60_000 } });
  const blocker = new AbortController();
  const running = code(p.call('spin', '{}', { signal: blocker.signal }));
  const ac = new AbortController();
  const queued = code(p.call('spin', '{}', { signal: ac.signal }));
  ac.abort();
  t.is((await queued).code, 'aborted');
  t.regex((await queued).message, /queued/);
  blocker.abort();
  t.is((await running).code, 'aborted');
  await p.close();
});

test('an already aborted signal fails the call at once', async (t) => {
  const p = await load('echo-c');
  const e = await code(p.call('echo', '1', { signal: AbortSignal.abort() }));
  t.is(e.code, 'aborted');
  await p.close();
});

test('concurrency 2 runs two calls at once; a third overloads when nothing may queue', async (t) => {
  const p = await load('state', { resources: { concurrency: 2, queue: 0, timeoutMs: 60_000 } });
  const a = new AbortController();
  const loopA = code(p.call('spin', '{}', { signal: a.signal }));
  // One worker is stuck in a loop; the other still answers.
  t.is((await p.call('count', '{}')).output, '1');
  const b = new AbortController();
  const loopB = code(p.call('spin', '{}', { signal: b.signal }));
  t.is((await code(p.call('count', '{}'))).code, 'overloaded');
  a.abort();
  b.abort();
  t.deepEqual([(await loopA).code, (await loopB).code], ['aborted', 'aborted']);
  await p.close();
});

test('close() lets running calls finish, then refuses new ones (aborted, as on every engine)', async (t) => {
  const p = await load('echo-c');
  let settled = false;
  const pending = p.call('echo', '"late"').finally(() => {
    settled = true;
  });
  const first = p.close();
  // A second close() resolves only once the first has drained the running call.
  await p.close();
  t.true(settled);
  await first;
  t.is((await pending).output, '"late"');
  t.is((await code(p.call('echo', '1'))).code, 'aborted');
});
