import test from 'ava';
import { isAirlockError, type ErrorCode } from '../../src/errors.ts';
import { PluginHost } from '../../src/host/index.ts';
import { loadPlugin } from '../../src/manifest/index.ts';
import { cPlugin, CountingProvider, ECHO_SPIN_C, fixture, fixtureCopy, track } from './helpers.ts';

async function rejectsWith(t: import('ava').ExecutionContext, promise: Promise<unknown>, code: ErrorCode): Promise<Error | undefined> {
  const error = await t.throwsAsync(promise);
  t.true(isAirlockError(error, code), `expected ${code}, got ${isAirlockError(error) ? `${error.code}: ${error.message}` : String(error)}`);
  return error;
}

const echoSpin = (name: string, resources: Record<string, unknown> = {}): string =>
  cPlugin(
    {
      name,
      tools: [
        { name: 'echo', description: 'Returns its input', input: { type: 'object' } },
        { name: 'spin', description: 'Never returns', input: { type: 'object' } },
      ],
      resources,
    },
    ECHO_SPIN_C,
  );

test('two agents with different plugin sets and policies see and call only the plugins they loaded', async (t) => {
  const engines = new CountingProvider();
  const host = new PluginHost({ provider: engines });
  t.teardown(() => host.close());
  const alice = await host.agent('alice', { plugins: [fixture('echo-c')], policy: { limits: { timeout: '3s' } } });
  const bob = await host.agent('bob', { plugins: [fixture('state')], policy: { limits: { memory: '64Mi' } } });
  t.is(alice.plugins()[0]?.grants.resources.timeoutMs, 3000);
  t.is(bob.plugins()[0]?.grants.resources.memoryBytes, 64 * 1024 * 1024);

  t.deepEqual(
    alice.tools().map((x) => x.name),
    ['echo-c_echo', 'echo-c_add'],
  );
  const stateTools = loadPlugin(fixture('state')).manifest.tools.map((x) => `state_${x.name}`);
  t.true(stateTools.includes('state_count'));
  t.deepEqual(
    bob.tools().map((x) => x.name),
    stateTools,
  );
  t.deepEqual(
    alice.openAITools().map((x) => x.function.name),
    ['echo-c_echo', 'echo-c_add'],
  );
  t.deepEqual(
    bob.anthropicTools().map((x) => x.name),
    stateTools,
  );
  t.deepEqual(host.tools(), [], "the host's own tool list holds neither agent's plugins");

  await rejectsWith(t, alice.call('state_count', {}), 'not-found');
  await rejectsWith(t, bob.call('echo-c_add', { a: 1, b: 2 }), 'not-found');
  await rejectsWith(t, host.call('echo-c_add', { a: 1, b: 2 }), 'not-found');
  t.is(engines.calls.length, 0, 'no refused call reached an engine');

  t.is((await alice.call('echo-c_add', { a: 1, b: 2 })).value, 3);
  t.is((await bob.call('state_count', {})).value, 1);
  await rejectsWith(t, host.agent('alice'), 'conflict');
});

test('each agent runs under its own policy: what one may load the other may not, and limits differ', async (t) => {
  const envDump = fixtureCopy('env-dump', 'env.c', {
    name: 'env-dump',
    tools: [{ name: 'dump', description: 'Environment it sees', input: { type: 'object' } }],
    permissions: { env: ['AIRLOCK_TEST_TOKEN'] },
  });
  const host = new PluginHost({ env: { AIRLOCK_TEST_TOKEN: 'alice-only' } });
  t.teardown(() => host.close());
  const alice = await host.agent('alice', { plugins: [envDump], policy: { env: ['AIRLOCK_TEST_TOKEN'] } });
  t.deepEqual((await alice.call('env-dump_dump', {})).value, ['AIRLOCK_TEST_TOKEN=alice-only']);
  // Bob's (default) policy grants no environment: the same plugin is refused, and bob does not exist.
  await rejectsWith(t, host.agent('bob', { plugins: [envDump] }), 'permission-denied');
  const bob = await host.agent('bob', { plugins: [fixture('loop')], policy: { limits: { timeout: '200ms' } } });
  const carol = await host.agent('carol', { plugins: [fixture('loop')] });
  t.is(bob.plugins()[0]?.grants.resources.timeoutMs, 200);
  t.is(carol.plugins()[0]?.grants.resources.timeoutMs, 10_000);
  const error = await rejectsWith(t, bob.call('loop_spin', {}), 'timeout');
  t.regex(error?.message ?? '', /200 ms/);
});

test('agents with the same grants share one warm pool; different grants get their own', async (t) => {
  const engines = new CountingProvider();
  const host = new PluginHost({ provider: engines });
  t.teardown(() => host.close());
  const a = await host.agent('a', { plugins: [fixture('state')] });
  const b = await host.agent('b', { plugins: [fixture('state')] });
  const c = await host.agent('c', { plugins: [fixture('state')], policy: { limits: { timeout: '5s' } } });
  t.is(engines.opened.length, 2, 'a and b share a pool, c has its own');
  // The shared pool's single instance counts calls from both agents.
  t.is((await a.call('state_count', {})).value, 1);
  t.is((await b.call('state_count', {})).value, 2);
  t.is((await c.call('state_count', {})).value, 1);
  // The pool outlives one agent and closes with the last.
  await a.close();
  t.is(engines.instancesClosed, 0);
  t.is((await b.call('state_count', {})).value, 3);
  await b.close();
  t.is(engines.instancesClosed, 1);
  await rejectsWith(t, a.call('state_count', {}), 'aborted');
  // A closed agent gives its id back.
  await t.notThrowsAsync(host.agent('a'));
});

test("a runaway agent saturating its own limit does not block another agent's calls on the same pool", async (t) => {
  const dir = echoSpin('shared', { concurrency: 4, timeout: '60s' });
  const engines = new CountingProvider();
  const host = new PluginHost({ provider: engines });
  t.teardown(() => host.close());
  const runaway = await host.agent('runaway', { plugins: [dir], concurrency: 2 });
  const polite = await host.agent('polite', { plugins: [dir] });
  t.is(engines.opened.length, 1, 'one pool of 4 instances serves both agents');

  const stop = new AbortController();
  const spins = Array.from({ length: 6 }, () => track(runaway.call('shared_spin', {}, { signal: stop.signal })));
  await engines.reached(2);
  // The runaway agent holds 2 instances (its own limit) and its other 4 calls wait in its own queue.
  const answer = await polite.call('shared_echo', { hello: 'still answered' });
  t.deepEqual(answer.value, { hello: 'still answered' });
  t.true(
    spins.every((s) => !s.settled()),
    'every runaway call is still running or waiting',
  );
  t.deepEqual(
    engines.calls.map((c) => c.tool),
    ['spin', 'spin', 'echo'],
    "only the runaway agent's first 2 calls reached the engine",
  );
  stop.abort();
  for (const s of spins) await rejectsWith(t, s.promise, 'aborted');
  t.is(engines.calls.length, 3, 'the waiting calls left the queue without running');
  t.deepEqual((await runaway.call('shared_echo', { after: 'abort' })).value, { after: 'abort' });
});

test('with default limits, agents sharing a pool each get an equal share of its instances', async (t) => {
  const dir = echoSpin('fair', { concurrency: 2, timeout: '60s' });
  const engines = new CountingProvider();
  const host = new PluginHost({ provider: engines });
  t.teardown(() => host.close());
  const runaway = await host.agent('runaway', { plugins: [dir] });
  const polite = await host.agent('polite', { plugins: [dir] });
  const stop = new AbortController();
  const spins = Array.from({ length: 6 }, () => track(runaway.call('fair_spin', {}, { signal: stop.signal })));
  await engines.reached(1);
  // 2 instances, 2 agents: the runaway agent's share is 1, so polite still has an instance.
  t.deepEqual((await polite.call('fair_echo', { mine: true })).value, { mine: true });
  t.deepEqual((await polite.call('fair_echo', { again: true })).value, { again: true });
  t.deepEqual(
    engines.calls.map((c) => c.tool),
    ['spin', 'echo', 'echo'],
  );
  t.true(spins.every((s) => !s.settled()));
  stop.abort();
  for (const s of spins) await rejectsWith(t, s.promise, 'aborted');
  t.is(engines.calls.length, 3, 'the calls waiting for their share never ran');
  // Alone on the pool, an agent gets every instance.
  await polite.close();
  const both = new AbortController();
  const twoSpins = [0, 1].map(() => track(runaway.call('fair_spin', {}, { signal: both.signal })));
  await engines.reached(5);
  t.deepEqual(
    engines.calls.slice(3).map((c) => c.tool),
    ['spin', 'spin'],
  );
  both.abort();
  for (const s of twoSpins) await rejectsWith(t, s.promise, 'aborted');
});

test('an agent whose queue is full is overloaded; other agents are not', async (t) => {
  const dir = echoSpin('busy', { concurrency: 2 });
  const engines = new CountingProvider();
  const host = new PluginHost({ provider: engines });
  t.teardown(() => host.close());
  const flood = await host.agent('flood', { plugins: [dir], concurrency: 1, queue: 1 });
  const calm = await host.agent('calm', { plugins: [dir], concurrency: 1, queue: 1 });
  const stop = new AbortController();
  const running = track(flood.call('busy_spin', {}, { signal: stop.signal }));
  await engines.reached(1);
  const waiting = track(flood.call('busy_spin', {}, { signal: stop.signal }));
  const error = await rejectsWith(t, flood.call('busy_echo', {}), 'overloaded');
  t.regex(error?.message ?? '', /agent "flood" has 1 calls waiting \(limit 1\)/);
  t.deepEqual((await calm.call('busy_echo', { ok: true })).value, { ok: true });
  stop.abort();
  await rejectsWith(t, running.promise, 'aborted');
  await rejectsWith(t, waiting.promise, 'aborted');
});
