/**
 * The host's worker lane (src/worker-lane.ts) on a test worker: one job at a
 * time in arrival order, the lane's own error texts for a bound, an abort, a
 * heap overrun and a crash, a fresh thread after each, prestart, and a lane
 * that does not keep the process alive while idle.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { AirlockError, isAirlockError } from '../src/errors.ts';
import { waitAsync } from '../src/wasm-api.ts';
import { type LaneOptions, WorkerLane } from '../src/worker-lane.ts';
import type { LaneTestJob } from './helpers/lane-worker.ts';
import { tempDir } from './helpers/plugin.ts';
import { rejection } from './helpers/rejection.ts';

const WORKER = new URL('./helpers/lane-worker.ts', import.meta.url);
/** Generous: a busy machine may take seconds to start a thread; no test waits for this unless something is wrong. */
const BOUND_MS = 60_000;

interface Reply {
  id: number;
  thread: number;
}

/** A lane over the test worker, and the count of threads it has started. */
function lane(options: Partial<LaneOptions> = {}): { lane: WorkerLane<Reply>; threads: Int32Array } {
  const threads = new Int32Array(new SharedArrayBuffer(4));
  const l = new WorkerLane<Reply>({
    url: WORKER,
    name: 'airlock:test-lane',
    resourceLimits: { maxOldGenerationSizeMb: 32 },
    workerData: threads,
    failure: (kind, label, detail) =>
      new AirlockError(kind === 'timeout' ? 'timeout' : kind === 'memory' ? 'memory-limit' : 'internal', `${kind}: ${label}: ${detail}`),
    ...options,
  });
  return { lane: l, threads };
}

function job(l: WorkerLane<Reply>, op: LaneTestJob['op'], label: string, extra: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Reply> {
  return l.run((id) => ({ id, op }) satisfies LaneTestJob, { label, timeoutMs: BOUND_MS, ...extra });
}

/** Resolves once the lane has started `n` threads (bounded). */
async function threadsStarted(threads: Int32Array, n: number): Promise<void> {
  for (;;) {
    const seen = Atomics.load(threads, 0);
    if (seen >= n) return;
    const r = waitAsync(threads, 0, seen, BOUND_MS);
    if ((await r.value) === 'timed-out') throw new Error(`${n} threads did not start`);
  }
}

test('jobs run one at a time in arrival order on one thread, each answered by the reply carrying its id', async (t) => {
  const { lane: l, threads } = lane();
  const replies = await Promise.all(['a', 'b', 'c', 'd'].map((label) => job(l, 'echo', label)));
  t.deepEqual(
    replies.map((r) => r.id),
    [1, 2, 3, 4],
  );
  t.is(new Set(replies.map((r) => r.thread)).size, 1);
  t.is(Atomics.load(threads, 0), 1, 'started on first use, once');
});

test("a job past its bound gets the lane's timeout error; the jobs behind it run on a fresh thread", async (t) => {
  const { lane: l, threads } = lane();
  const first = await job(l, 'echo', 'warm');
  const spin = job(l, 'spin', 'forever', { timeoutMs: 50 });
  const behind = job(l, 'echo', 'behind');
  const err = await rejection(spin);
  t.true(isAirlockError(err, 'timeout'), String(err));
  t.is(err.message, 'timeout: forever: 50 ms');
  t.not((await behind).thread, first.thread);
  t.is(Atomics.load(threads, 0), 2);
});

test('with prestart, the next thread starts as soon as one is ended for a bound, before any job asks for it', async (t) => {
  const { lane: l, threads } = lane({ prestart: true });
  await job(l, 'echo', 'warm');
  t.true(isAirlockError(await rejection(job(l, 'spin', 'forever', { timeoutMs: 50 })), 'timeout'));
  await threadsStarted(threads, 2);
  await job(l, 'echo', 'next');
  t.is(Atomics.load(threads, 0), 2, 'the next job ran on the prestarted thread');
});

test.serial('a thread ended while it starts (its job aborted) is terminated only once its entry module has loaded (nodejs/node#64500)', async (t) => {
  const cells = new Int32Array(new SharedArrayBuffer(12));
  // The lane's thread is unref'd and a pending waitAsync keeps nothing alive: this does, while the test waits.
  const alive = setInterval(() => {}, 1 << 30);
  t.teardown(() => clearInterval(alive));
  const { lane: l } = lane({ url: new URL('./helpers/lane-worker-held.ts', import.meta.url), workerData: cells });
  const workers: Worker[] = [];
  const onWorker = (m: unknown): void => void workers.push((m as { worker: Worker }).worker);
  subscribe('worker_threads', onWorker);
  const abort = new AbortController();
  const held = job(l, 'echo', 'held', { signal: abort.signal });
  // Mid-start: its entry module is running and waits for cell 1.
  while (Atomics.load(cells, 0) === 0) t.not(await waitAsync(cells, 0, 0, BOUND_MS).value, 'timed-out', 'the thread started');
  unsubscribe('worker_threads', onWorker);
  t.is(workers.length, 1);
  const exited = once(workers[0] as Worker, 'exit');
  abort.abort('stop');
  t.true(isAirlockError(await rejection(held), 'aborted'));
  Atomics.store(cells, 1, 1);
  Atomics.notify(cells, 1);
  await exited;
  t.is(Atomics.load(cells, 2), 1, 'the thread finished its start before it was terminated');
});

test("aborts while queued and while running get `<label> was aborted` with the signal's reason; the jobs behind are answered", async (t) => {
  const { lane: l } = lane();
  const running = new AbortController();
  const queued = new AbortController();
  const spin = job(l, 'spin', 'spinning', { signal: running.signal });
  const waiting = job(l, 'echo', 'waiting', { signal: queued.signal });
  const behind = job(l, 'echo', 'behind');
  queued.abort('no longer needed');
  const q = await rejection(waiting);
  t.true(isAirlockError(q, 'aborted'));
  t.is(q.message, 'waiting was aborted');
  t.is(q.cause, 'no longer needed');
  running.abort('stop');
  const r = await rejection(spin);
  t.is(r.message, 'spinning was aborted');
  t.is(r.cause, 'stop');
  t.is((await behind).id, 3);
  const before = new AbortController();
  before.abort('early');
  t.is((await rejection(job(l, 'echo', 'late', { signal: before.signal }))).message, 'late was aborted');
});

test("a job that runs the thread out of heap, or a thread that exits, fails with the lane's error; the next job is answered", async (t) => {
  const { lane: l } = lane();
  const oom = await rejection(job(l, 'oom', 'hungry'));
  t.true(isAirlockError(oom, 'memory-limit'), String(oom));
  t.regex(oom.message, /^memory: hungry: /);
  const exit = await rejection(job(l, 'exit', 'quitter'));
  t.true(isAirlockError(exit, 'internal'), String(exit));
  t.is(exit.message, 'crash: quitter: the thread exited (code 3)');
  t.is((await job(l, 'echo', 'after')).id, 3);
});

for (const [name, body] of [
  ['after a job', "const r = await lane.run((id) => ({ id, op: 'echo' }), { label: 'one', timeoutMs: 60000 }); console.log('answered', r.id);"],
  [
    // The bound kills a spinning thread and prestart starts the next one at once: that idle thread must not hold the process either.
    'after a job ended by its bound, with the next thread prestarted',
    "await lane.run((id) => ({ id, op: 'spin' }), { label: 'spin', timeoutMs: 200 }).catch((e) => console.log('ended', e.message.startsWith('timeout')));",
  ],
] as const) {
  test(`a lane does not keep the process alive while idle: ${name}`, async (t) => {
    // The child runs its job and returns; it exits only if the idle thread lets it.
    const script = `
      import { WorkerLane } from ${JSON.stringify(new URL('../src/worker-lane.ts', import.meta.url).href)};
      const lane = new WorkerLane({ url: new URL(${JSON.stringify(WORKER.href)}), name: 'idle', resourceLimits: {}, prestart: true,
        workerData: new Int32Array(new SharedArrayBuffer(4)), failure: (k, l, d) => new Error(k + l + d) });
      ${body}
    `;
    // A file, not --eval: the lane's thread inherits the parent's exec flags.
    const file = join(tempDir(), 'idle-lane.mjs');
    writeFileSync(file, script);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [file], { timeout: BOUND_MS }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    t.is(out.trim(), name === 'after a job' ? 'answered 1' : 'ended true');
  });
}

test('a lane starts its thread in a host run as `node --input-type=module -e` (the flag is not passed on to the thread)', async (t) => {
  const script = `
    import { WorkerLane } from ${JSON.stringify(new URL('../src/worker-lane.ts', import.meta.url).href)};
    const lane = new WorkerLane({ url: new URL(${JSON.stringify(WORKER.href)}), name: 'eval', resourceLimits: {},
      workerData: new Int32Array(new SharedArrayBuffer(4)), failure: (k, l, d) => new Error(k + l + d) });
    const r = await lane.run((id) => ({ id, op: 'echo' }), { label: 'echo', timeoutMs: ${BOUND_MS} });
    console.log('answered', r.thread > 0);
  `;
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: BOUND_MS }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  t.is(out.trim(), 'answered true');
});
