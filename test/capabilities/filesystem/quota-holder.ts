/** Worker script for quota.test.ts: takes the quota lock, says so, and never lets go (as a worker killed mid-write would). */
import { parentPort, workerData } from 'node:worker_threads';
import { Quota } from '../../../src/capabilities/filesystem/quota.ts';

new Quota({ bytes: 1, files: 1 }, workerData as SharedArrayBuffer).locked(() => {
  parentPort?.postMessage('held');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});
