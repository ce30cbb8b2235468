/**
 * What a standby worker loads ahead (src/capabilities/warm.ts) is exactly the
 * capabilities' worker parts for the common interfaces, as the host's
 * wasiPlan would choose them: no part missing (it would load at adoption),
 * none extra (every worker would carry it), never the network part; and
 * the shim's IO thread only for a plugin that imports wasi:http or wasi:sockets.
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

/** The worker threads `fn` starts in this thread. */
async function threadsStarted<T>(fn: () => Promise<T>): Promise<[T, Worker[]]> {
  const started: Worker[] = [];
  const onWorker = (m: unknown): void => void started.push((m as { worker: Worker }).worker);
  subscribe('worker_threads', onWorker);
  try {
    return [await fn(), started];
  } finally {
    unsubscribe('worker_threads', onWorker);
  }
}

// Serial, in this order: each baseline family loads once per thread.
test.serial("warming for the common interfaces starts no thread (their wasi:io is Airlock's own, not the shim's)", async (t) => {
  const [warmed, started] = await threadsStarted(() => warmWasi());
  t.is(started.length, 0);
  await warmed.threadsOnline;
  warmed.ioRoundTrip();
});

test.serial(
  "warming for a plugin with wasi:http starts preview2-shim's IO thread and says when it runs; a round trip to it then returns (its boot is over)",
  async (t) => {
    const [warmed, started] = await threadsStarted(() => warmWasi(['wasi:http/types', 'wasi:http/outgoing-handler']));
    t.is(started.length, 1, 'the shim started its IO thread');
    // The shim unrefs its thread: without this, nothing would keep this test's thread alive while it boots.
    const alive = setInterval(() => {}, 1 << 30);
    await warmed.threadsOnline.finally(() => clearInterval(alive));
    warmed.ioRoundTrip();
    t.pass('the IO thread answered');
  },
);
