/**
 * A worker for test/worker-lane.test.ts whose start the test holds: it says
 * it is starting (cell 0), waits until the test lets it go (cell 1), then
 * marks its start done (cell 2) and answers jobs.
 */
import { parentPort } from 'node:worker_threads';
import { workerData } from 'node:worker_threads';
import { waitAsync } from '../../src/wasm-api.ts';

const cells = workerData as Int32Array;
Atomics.store(cells, 0, 1);
Atomics.notify(cells, 0);
// A pending waitAsync does not keep the thread alive: without this it could end by itself while held.
const alive = setInterval(() => {}, 1 << 30);
while (Atomics.load(cells, 1) === 0) await waitAsync(cells, 1, 0).value;
clearInterval(alive);
Atomics.store(cells, 2, 1);

parentPort?.on('message', (job: { id: number }) => parentPort?.postMessage({ id: job.id, thread: 0 }));
