/**
 * The slot pool on its own, with a fake driver whose instances start, answer
 * and die when the test says so: the rules every engine and the host's worker
 * lane share (queue limit, aborts, timeouts, replacement, drain) without a
 * worker, container or process.
 */
import test from 'ava';
import { AirlockError, isAirlockError } from '../../src/errors.ts';
import type { Slot, SlotCall, SlotDriver, SlotPoolOptions, SlotTiming } from '../../src/slots/driver.ts';
import { SlotPool } from '../../src/slots/pool.ts';
import { makeGrants, type GrantsOverrides } from '../helpers/grants.ts';
import { rejection } from '../helpers/rejection.ts';

interface Inst {
  id: number;
}

/** What a fake call settles with: the driver's output and the pool's timing. */
interface Out {
  output: string;
  metrics: SlotTiming;
}

/** Instances that start at once (or fail, when told), run calls until the test answers them, and record kills and stops. */
class FakeDriver implements SlotDriver<Inst> {
  pool!: SlotPool<Inst, string, Out>;
  prefer: ((a: Inst, b: Inst) => boolean) | undefined;
  #ids = 0;
  readonly started: Inst[] = [];
  readonly killed: Inst[] = [];
  readonly stopped: Inst[] = [];
  /** Running calls by input, with the instance that runs each. */
  readonly running = new Map<string, { call: SlotCall<string>; inst: Inst; slot: Slot<Inst> }>();
  /** Errors the next starts fail with, in order. */
  readonly failStarts: AirlockError[] = [];
  /** While set, starts wait until the test calls release(). */
  holdStarts = false;
  readonly #held: (() => void)[] = [];
  #waiters: { kind: 'run' | 'start' | 'stop'; resolve(): void }[] = [];

  async start(): Promise<Inst> {
    const err = this.failStarts.shift();
    this.#emit('start');
    if (this.holdStarts) await new Promise<void>((resolve) => this.#held.push(resolve));
    if (err !== undefined) throw err;
    const inst = { id: ++this.#ids };
    this.started.push(inst);
    return inst;
  }

  /** Lets the held starts finish. */
  release(): void {
    this.holdStarts = false;
    for (const go of this.#held.splice(0)) go();
  }

  run(slot: Slot<Inst>, call: SlotCall<string>): void {
    if (call.input === 'refuse') throw new AirlockError('invalid-input', 'refused by the driver');
    this.running.set(call.input, { call, inst: slot.handle as Inst, slot });
    this.#emit('run');
  }

  kill(inst: Inst): Promise<void> {
    this.killed.push(inst);
    return Promise.resolve();
  }

  stop(inst: Inst): Promise<void> {
    this.stopped.push(inst);
    this.#emit('stop');
    return Promise.resolve();
  }

  /** Resolves at the next start, run or stop. */
  next(kind: 'run' | 'start' | 'stop'): Promise<void> {
    return new Promise((resolve) => this.#waiters.push({ kind, resolve }));
  }

  #emit(kind: 'run' | 'start' | 'stop'): void {
    const ready = this.#waiters.filter((w) => w.kind === kind);
    this.#waiters = this.#waiters.filter((w) => w.kind !== kind);
    for (const w of ready) w.resolve();
  }

  /** Answers the running call whose input is `input` with `out:<input>`. */
  answer(input: string): void {
    const r = this.running.get(input);
    if (r === undefined) throw new Error(`no running call ${input}`);
    this.running.delete(input);
    this.pool.answer(r.call, { output: `out:${input}`, metrics: this.pool.metrics(r.call) });
  }
}

async function pool(o: GrantsOverrides['resources'] = {}, options: Partial<SlotPoolOptions> = {}): Promise<{ p: SlotPool<Inst, string, Out>; d: FakeDriver }> {
  const d = new FakeDriver();
  const p = (d.pool = new SlotPool(d, makeGrants({ plugin: { name: 'fake' }, resources: { concurrency: 1, queue: 1, timeoutMs: 60_000, ...o } }), {
    instance: 'worker',
    ...options,
  }));
  await p.start();
  return { p, d };
}

test('a call runs on an idle slot and resolves with the driver answer, timed by the pool', async (t) => {
  const { p, d } = await pool();
  const run = d.next('run');
  const call = p.call('echo', 'a');
  await run;
  d.answer('a');
  const r = await call;
  t.is(r.output, 'out:a');
  t.true(r.metrics.queueMs >= 0 && r.metrics.durationMs >= r.metrics.queueMs);
});

test('past concurrency + queue a call is overloaded, naming the plugin, the tool and both limits; the queued one runs next', async (t) => {
  const { p, d } = await pool({ concurrency: 1, queue: 1 });
  const run = d.next('run');
  const a = p.call('echo', 'a');
  await run;
  const b = p.call('echo', 'b');
  const err = await rejection(p.call('echo', 'c'));
  t.true(isAirlockError(err, 'overloaded'), String(err));
  t.regex(err.message, /fake\/echo.*1 calls running and 1 waiting.*resources\.concurrency 1.*limits\.queue 1/);
  const runB = d.next('run');
  d.answer('a');
  await runB;
  d.answer('b');
  t.is((await a).output, 'out:a');
  t.is((await b).output, 'out:b');
});

test('aborting a queued call dequeues it: it never runs and the running call is untouched', async (t) => {
  const { p, d } = await pool({ queue: 4 });
  const run = d.next('run');
  const a = p.call('echo', 'a');
  await run;
  const ac = new AbortController();
  const b = p.call('echo', 'b', { signal: ac.signal });
  ac.abort();
  const err = await rejection(b);
  t.true(isAirlockError(err, 'aborted'));
  t.regex(err.message, /fake\/echo was aborted while queued/);
  d.answer('a');
  t.is((await a).output, 'out:a');
  t.false(d.running.has('b'));
  t.deepEqual(d.killed, []);
});

test('aborting a running call kills its instance, and a fresh one serves the next call', async (t) => {
  const { p, d } = await pool();
  const ac = new AbortController();
  const run = d.next('run');
  const a = p.call('echo', 'a', { signal: ac.signal });
  await run;
  const first = d.running.get('a')!.inst;
  const restarted = d.next('start');
  ac.abort();
  const err = await rejection(a);
  t.true(isAirlockError(err, 'aborted'));
  t.regex(err.message, /fake\/echo was aborted; its worker was stopped and replaced/);
  t.deepEqual(d.killed, [first]);
  await restarted;
  const runB = d.next('run');
  const b = p.call('echo', 'b');
  await runB;
  t.not(d.running.get('b')!.inst, first);
  // The killed instance's late answer is ignored.
  d.answer('a');
  d.answer('b');
  t.is((await b).output, 'out:b');
});

test('a call that never answers times out at the lower of its own and the granted timeout, and its instance is replaced', async (t) => {
  const { p, d } = await pool({ timeoutMs: 60_000 });
  const run = d.next('run');
  // The driver never answers: the timer is the only way this call ends.
  const a = p.call('spin', 'a', { timeoutMs: 5 });
  await run;
  const first = d.running.get('a')!.inst;
  const err = await rejection(a);
  t.true(isAirlockError(err, 'timeout'));
  t.regex(err.message, /fake\/spin ran past its 5 ms limit \(the call's own timeout\); its worker was stopped and replaced/);
  t.is(err.details.timeoutMs, 5);
  t.deepEqual(d.killed, [first]);
  const runB = d.next('run');
  const b = p.call('echo', 'b');
  await runB;
  d.answer('b');
  t.is((await b).output, 'out:b');
});

test('the granted timeout is named as resources.timeout; a grace lets the engine report it first', async (t) => {
  const { p, d } = await pool({ timeoutMs: 5 });
  const run = d.next('run');
  const a = p.call('spin', 'a');
  await run;
  t.regex((await rejection(a)).message, /ran past its 5 ms limit \(resources\.timeout in plugin\.yaml\)/);
  // With a grace past the granted limit, the engine's own report of it settles the call.
  const g = await pool({ timeoutMs: 5 }, { timeoutGraceMs: 60_000 });
  const runG = g.d.next('run');
  const c = g.p.call('spin', 'c');
  await runG;
  const r = g.d.running.get('c')!;
  g.p.fail(r.call, new AirlockError('timeout', 'reported by the engine'));
  t.is((await rejection(c)).message, 'reported by the engine');
});

test('close lets running and queued calls finish, refuses new ones, then stops every instance', async (t) => {
  const { p, d } = await pool({ queue: 4 });
  const run = d.next('run');
  const a = p.call('echo', 'a');
  await run;
  const b = p.call('echo', 'b');
  let closed = false;
  const closing = p.close().then(() => (closed = true));
  const refused = await rejection(p.call('echo', 'c'));
  t.true(isAirlockError(refused, 'aborted'));
  t.regex(refused.message, /fake\/echo refused: plugin fake is closed/);
  const runB = d.next('run');
  d.answer('a');
  await runB;
  t.false(closed, 'close waits for the queued call');
  t.deepEqual(d.stopped, []);
  d.answer('b');
  await closing;
  t.is((await a).output, 'out:a');
  t.is((await b).output, 'out:b');
  t.deepEqual(d.stopped, d.started);
  t.is(await p.close(), undefined, 'a second close resolves too');
});

test('with closeFailsQueued, close fails the queued calls and lets the running one finish', async (t) => {
  const { p, d } = await pool({ queue: 4 }, { closeFailsQueued: true });
  const run = d.next('run');
  const a = p.call('echo', 'a');
  await run;
  const b = p.call('echo', 'b');
  const closing = p.close();
  const err = await rejection(b);
  t.true(isAirlockError(err, 'aborted'));
  t.regex(err.message, /fake\/echo was not started: plugin fake was closed first/);
  d.answer('a');
  await closing;
  t.is((await a).output, 'out:a');
});

test('a slot whose first start fails fails start() with its error, and the started ones are stopped', async (t) => {
  const d = new FakeDriver();
  d.failStarts.push(new AirlockError('crash', 'no instance today'));
  const p = (d.pool = new SlotPool(d, makeGrants({ resources: { concurrency: 2 } }), { instance: 'worker' }));
  const err = await rejection(p.start());
  t.is(err.message, 'no instance today');
  t.is(d.started.length, 1);
  t.deepEqual(d.stopped, d.started);
});

test('a replacement that fails to start fails the waiting calls, and is started again when the next call has to wait', async (t) => {
  const { p, d } = await pool({ queue: 4 });
  const ac = new AbortController();
  const run = d.next('run');
  const a = p.call('echo', 'a', { signal: ac.signal });
  await run;
  const b = p.call('echo', 'b');
  d.failStarts.push(new AirlockError('crash', 'replacement failed'));
  ac.abort();
  t.true(isAirlockError(await rejection(a), 'aborted'));
  // No slot is left to run b.
  t.is((await rejection(b)).message, 'replacement failed');
  const runC = d.next('run');
  const c = p.call('echo', 'c');
  await runC;
  d.answer('c');
  t.is((await c).output, 'out:c');
});

test('with a backoff, every slot failed and the queue full is overloaded at once with the last start error', async (t) => {
  const { p, d } = await pool({ queue: 0 }, { backoff: { baseMs: 60_000, maxMs: 60_000 } });
  t.teardown(() => p.close());
  const ac = new AbortController();
  const run = d.next('run');
  const a = p.call('echo', 'a', { signal: ac.signal });
  await run;
  d.failStarts.push(new AirlockError('crash', 'transient daemon error'));
  const failed = d.next('start');
  ac.abort();
  await rejection(a);
  await failed;
  // The failure reaches the slot a few promise reactions after the start rejects.
  await new Promise((r) => setImmediate(r));
  const err = await rejection(p.call('echo', 'b'));
  t.true(isAirlockError(err, 'overloaded'));
  t.regex(err.message, /no worker is running \(the last start failed: transient daemon error\)/);
});

test('an instance that dies fails its call with the driver error and is replaced', async (t) => {
  const { p, d } = await pool();
  const run = d.next('run');
  const a = p.call('echo', 'a');
  await run;
  const { inst, slot } = d.running.get('a')!;
  const restarted = d.next('start');
  p.died(slot, inst, new AirlockError('crash', 'worker exited'));
  t.is((await rejection(a)).message, 'worker exited');
  await restarted;
  // A second report about the same instance is stale.
  p.died(slot, inst, new AirlockError('crash', 'again'));
  const runB = d.next('run');
  const b = p.call('echo', 'b');
  await runB;
  d.answer('b');
  t.is((await b).output, 'out:b');
  t.is(d.started.length, 2);
});

test('a call the driver refuses fails alone; the slot stays idle for the next', async (t) => {
  const { p, d } = await pool();
  t.true(isAirlockError(await rejection(p.call('echo', 'refuse')), 'invalid-input'));
  const run = d.next('run');
  const b = p.call('echo', 'b');
  await run;
  d.answer('b');
  t.is((await b).output, 'out:b');
  t.deepEqual(d.killed, []);
});

test('a spare slot never raises concurrency, and the driver picks among idle slots', async (t) => {
  const d = new FakeDriver();
  d.prefer = (a: Inst, b: Inst) => b.id > a.id;
  const p = (d.pool = new SlotPool(d, makeGrants({ resources: { concurrency: 1, queue: 4 } }), { instance: 'worker', spare: 1 }));
  await p.start();
  t.is(d.started.length, 2);
  const run = d.next('run');
  const a = p.call('echo', 'a');
  await run;
  t.is(d.running.get('a')!.inst.id, 2, 'the preferred idle slot');
  const b = p.call('echo', 'b');
  t.false(d.running.has('b'), 'queued behind the one call allowed at once');
  const runB = d.next('run');
  d.answer('a');
  await runB;
  d.answer('b');
  t.deepEqual([(await a).output, (await b).output], ['out:a', 'out:b']);
});

test('with no queue limit (Infinity) calls are never overloaded and run one at a time in arrival order', async (t) => {
  const { p, d } = await pool({ concurrency: 1, queue: Number.POSITIVE_INFINITY });
  const run = d.next('run');
  const inputs = Array.from({ length: 50 }, (_, i) => `c${i}`);
  const calls = inputs.map((i) => p.call('echo', i));
  await run;
  for (const i of inputs) {
    t.deepEqual([...d.running.keys()], [i], 'one call runs, the next in arrival order');
    const next = d.next('run');
    d.answer(i);
    if (i !== inputs.at(-1)) await next;
  }
  t.deepEqual(
    (await Promise.all(calls)).map((r) => r.output),
    inputs.map((i) => `out:${i}`),
  );
});

test("a pool's own error texts replace the shared ones; the aborts get the signal's reason", async (t) => {
  const reasons: unknown[] = [];
  const aborted = (message: string, reason: unknown): AirlockError => {
    reasons.push(reason);
    return new AirlockError('aborted', message);
  };
  const { p, d } = await pool(
    { queue: 4 },
    {
      instance: 'thread',
      errors: {
        abortedBeforeStart: (_plugin, tool, reason) => aborted(`${tool}: not started`, reason),
        abortedQueued: (_plugin, tool, reason) => aborted(`${tool}: dequeued`, reason),
        abortedRunning: (_plugin, tool, instance, reason) => aborted(`${tool}: ${instance} ended`, reason),
        timeout: (_plugin, tool, _instance, timeoutMs) => new AirlockError('invalid-manifest', `${tool}: past ${timeoutMs} ms`),
      },
    },
  );
  const before = new AbortController();
  before.abort('early');
  t.is((await rejection(p.call('a', 'x', { signal: before.signal }))).message, 'a: not started');

  const running = new AbortController();
  const queued = new AbortController();
  const run = d.next('run');
  const b = p.call('b', 'b', { signal: running.signal });
  await run;
  const c = p.call('c', 'c', { signal: queued.signal });
  queued.abort('from the queue');
  t.is((await rejection(c)).message, 'c: dequeued');
  const restarted = d.next('start');
  running.abort('while running');
  t.is((await rejection(b)).message, 'b: thread ended');
  t.deepEqual(reasons, ['early', 'from the queue', 'while running']);

  await restarted;
  const runD = d.next('run');
  const late = p.call('d', 'd', { timeoutMs: 5 });
  await runD;
  const err = await rejection(late);
  t.true(isAirlockError(err, 'invalid-manifest'), String(err));
  t.is(err.message, 'd: past 5 ms');
  // The texts not replaced are the shared ones.
  await p.close();
  t.regex((await rejection(p.call('e', 'e'))).message, /fake\/e refused: plugin fake is closed/);
});

// ---- parking (idleMs, park()) ----

/** `p`, or a failure naming `what` after `ms` (a bound, not a timing claim; the pending bound keeps the process alive). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, bound]);
  } finally {
    clearTimeout(timer);
  }
}

test('park() stops every idle instance; the next call starts one again (even with no queue) and runs on it', async (t) => {
  const { p, d } = await pool({ concurrency: 2, queue: 0 });
  t.teardown(() => p.close());
  const [a, b] = d.started;
  t.is(await p.park(), 2);
  t.deepEqual(d.stopped, [a, b]);
  const run = d.next('run');
  const c = p.call('echo', 'c');
  await run;
  t.is(d.started.length, 3, 'one call wakes one slot, not every parked one');
  t.is(d.running.get('c')!.inst, d.started[2] as Inst);
  d.answer('c');
  t.is((await c).output, 'out:c');
  t.deepEqual(d.killed, []);
});

test('calls during re-adoption queue: beyond the queue limit one per waking slot, an abort dequeues, and the timeout starts when the call runs', async (t) => {
  const { p, d } = await pool({ concurrency: 2, queue: 1, timeoutMs: 60_000 });
  t.teardown(() => p.close());
  await p.park();
  d.holdStarts = true;
  const a = p.call('echo', 'a', { timeoutMs: 1 });
  const ac = new AbortController();
  const b = p.call('echo', 'b', { signal: ac.signal });
  const c = p.call('echo', 'c');
  // Two slots may wake and one call may wait: a fourth is overloaded.
  t.true(isAirlockError(await rejection(p.call('echo', 'd')), 'overloaded'));
  ac.abort();
  t.true(isAirlockError(await rejection(b), 'aborted'));
  const ran = Promise.all([d.next('run'), d.next('run')]);
  d.release();
  await ran;
  t.deepEqual([...d.running.keys()].sort(), ['a', 'c']);
  // a's own 1 ms timeout ran from its start on a slot, not from when it queued.
  t.true(isAirlockError(await rejection(a), 'timeout'));
  d.answer('c');
  t.is((await c).output, 'out:c');
});

test('slots idle past idleMs are parked by the pool itself, measured on its clock; a busy slot never is', async (t) => {
  let now = 0;
  // The timer re-reads the injected clock each time it fires: nothing parks until the test moves it on.
  const { p, d } = await pool({ concurrency: 2, queue: 4 }, { idleMs: 20, now: () => now });
  t.teardown(() => p.close());
  const run = d.next('run');
  const a = p.call('echo', 'a');
  await run;
  const [first, second] = d.started;
  const busy = d.running.get('a')!.inst;
  const idle = busy === first ? second : first;
  await new Promise((r) => setTimeout(r, 200));
  t.deepEqual(d.stopped, [], 'the clock has not moved: nothing parked');
  now = 1_000;
  const stop = d.next('stop');
  // Bounded generously: the timer fires within idleMs of real time.
  await within(stop, 30_000, 'no slot was parked');
  t.deepEqual(d.stopped, [idle], 'the idle slot is parked, the busy one is not');
  d.answer('a');
  await a;
  // The slot that ran `a` became idle at 1000: parked once the clock passes 1020.
  now = 1_020;
  const stop2 = d.next('stop');
  await within(stop2, 30_000, 'no slot was parked');
  t.deepEqual(d.stopped, [idle, busy]);
  const runB = d.next('run');
  const b = p.call('echo', 'b');
  await runB;
  d.answer('b');
  t.is((await b).output, 'out:b');
});

test('a parked slot that cannot start again fails the calls waiting for it; the next call tries again', async (t) => {
  const { p, d } = await pool({ concurrency: 1, queue: 0 });
  t.teardown(() => p.close());
  await p.park();
  d.failStarts.push(new AirlockError('crash', 'no worker today'));
  t.is((await rejection(p.call('echo', 'a'))).message, 'no worker today');
  const run = d.next('run');
  const b = p.call('echo', 'b');
  await run;
  d.answer('b');
  t.is((await b).output, 'out:b');
});

test('close with a call waiting for a parked slot lets it run, then stops; a parked pool closes without starting anything', async (t) => {
  const { p, d } = await pool({ concurrency: 1, queue: 0 });
  await p.park();
  d.holdStarts = true;
  const a = p.call('echo', 'a');
  const closed = p.close();
  const run = d.next('run');
  d.release();
  await run;
  d.answer('a');
  t.is((await a).output, 'out:a');
  await closed;
  t.deepEqual(d.stopped, d.started);

  const other = await pool({ concurrency: 2 });
  await other.p.park();
  await other.p.close();
  t.is(other.d.started.length, 2);
  t.is(await other.p.park(), 0);
});

test('a start that never ends is aborted at startTimeoutMs and fails with timeout, naming the plugin', async (t) => {
  const aborted: unknown[] = [];
  // A driver whose instance never starts: like a component whose start function loops forever.
  const driver: SlotDriver<Inst> = {
    start: (_slot, _prev, signal) =>
      new Promise<Inst>((_resolve, reject) => {
        signal?.addEventListener('abort', () => {
          aborted.push(signal.reason);
          reject(new AirlockError('aborted', 'start aborted'));
        });
      }),
    run: () => undefined,
    kill: () => Promise.resolve(),
    stop: () => Promise.resolve(),
  };
  const pool = new SlotPool(driver, makeGrants(), { instance: 'worker', startTimeoutMs: 50 });
  const err = await t.throwsAsync(pool.start());
  t.true(isAirlockError(err, 'timeout'), String(err));
  t.regex(err?.message ?? '', /its worker did not finish starting within 50 ms/);
  t.is(aborted.length, 1, "the driver's start was aborted");
});

test('a start aborted by its caller stays aborted, not a start timeout', async (t) => {
  const driver: SlotDriver<Inst> = {
    start: (_slot, _prev, signal) =>
      new Promise<Inst>((_resolve, reject) => {
        signal?.addEventListener('abort', () => reject(new AirlockError('aborted', 'start aborted')));
      }),
    run: () => undefined,
    kill: () => Promise.resolve(),
    stop: () => Promise.resolve(),
  };
  const pool = new SlotPool(driver, makeGrants(), { instance: 'worker', startTimeoutMs: 600_000 });
  const ac = new AbortController();
  const started = pool.start(ac.signal);
  ac.abort();
  const err = await t.throwsAsync(started);
  t.true(isAirlockError(err, 'aborted'), String(err));
});
