/**
 * What a standby worker loads ahead (src/capabilities/warm.ts) is exactly the
 * capabilities' worker parts for the common interfaces, as the host's
 * wasiPlan would choose them: no part missing (it would load at adoption),
 * none extra (every worker would carry it), never the network part.
 */
import test from 'ava';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Worker } from 'node:worker_threads';
import { wasiPlan } from '../../src/capabilities/index.ts';
import { COMMON_INTERFACES, WARM_PARTS } from '../../src/capabilities/warm.ts';
import { warmWasi } from '../../src/capabilities/worker.ts';

test('the warm parts are the worker parts wasiPlan picks for the common interfaces, and none of them is the network part', (t) => {
  t.deepEqual(
    [...WARM_PARTS],
    wasiPlan(COMMON_INTERFACES).parts.map((p) => p.module),
  );
  t.false(WARM_PARTS.some((m) => m.includes('/network/')));
});

test('warming starts preview2-shim IO thread and says when it runs; a round trip to it then returns (its boot is over)', async (t) => {
  const started: Worker[] = [];
  const onWorker = (m: unknown): void => void started.push((m as { worker: Worker }).worker);
  subscribe('worker_threads', onWorker);
  let warmed: Awaited<ReturnType<typeof warmWasi>>;
  try {
    warmed = await warmWasi();
  } finally {
    unsubscribe('worker_threads', onWorker);
  }
  t.is(started.length, 1, 'the shim started its IO thread');
  // The shim unrefs its thread: without this, nothing would keep this test's thread alive while it boots.
  const alive = setInterval(() => {}, 1 << 30);
  await warmed.threadsOnline.finally(() => clearInterval(alive));
  warmed.ioRoundTrip();
  t.pass('the IO thread answered');
});
