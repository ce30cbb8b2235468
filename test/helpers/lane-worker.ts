/**
 * A worker for test/worker-lane.test.ts: answers `echo` with its thread id,
 * and on request spins forever, runs out of heap or exits. Each thread counts
 * itself in workerData (a shared counter) when it starts.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';

export interface LaneTestJob {
  id: number;
  op: 'echo' | 'spin' | 'oom' | 'exit';
}

Atomics.add(workerData as Int32Array, 0, 1);
Atomics.notify(workerData as Int32Array, 0);

parentPort?.on('message', (job: LaneTestJob) => {
  if (job.op === 'spin') for (;;);
  if (job.op === 'exit') process.exit(3);
  if (job.op === 'oom') {
    const hold: unknown[] = [];
    for (;;) hold.push(new Array(1 << 16).fill(hold.length));
  }
  parentPort?.postMessage({ id: job.id, thread: threadId });
});
