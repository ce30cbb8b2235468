/**
 * Load, short form (the full form, repeated with faults, is `npm run soak`):
 * 10,000 calls issued at once by three agents across two wasm plugins whose
 * pools they share, and a fourth agent calling a Docker plugin when Docker
 * is here. Every call gets exactly one result, its own; calls past
 * an agent's queue limit are `overloaded` and every accepted call succeeds;
 * memory stays bounded; the event loop keeps turning while calls are pending.
 */
import test from 'ava';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PluginHost } from '../../src/host/index.ts';
import { DOCKER } from '../engines/docker/helpers.ts';
import { fixture } from '../host/helpers.ts';
import { within } from './helpers.ts';
import { burst, targetsFor } from './load.ts';

// A full collection before and after, so "retained" means retained (ava runs this file in its own worker thread).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;
const CONCURRENCY = 64;
const QUEUE = 1024;

test('10,000 calls at once from 3 wasm agents (and a Docker one): one result each (its own), overloaded past the queue limit, accepted calls all succeed, memory bounded, the loop keeps turning', async (t) => {
  const host = new PluginHost({ engine: 'auto', agentConcurrency: CONCURRENCY, agentQueue: QUEUE });
  t.teardown(() => host.close());
  const wasm = await Promise.all(['a', 'b', 'c'].map((id) => host.agent(id, { plugins: [fixture('echo-c'), fixture('state')] })));
  const docker = DOCKER ? [await host.agent('d', { plugins: [fixture('conformance-node')] })] : [];
  const agents = [...wasm, ...docker];
  const targets = targetsFor(wasm, docker);
  // Warm up: the pools started, the code paths compiled.
  await burst({ targets, n: 300, firstId: -1_000_000 });
  gc();
  const before = process.memoryUsage().heapUsed;

  const n = 10_000;
  const padBytes = 2048;
  const r = await within(burst({ targets, n, padBytes }), 120_000, 'the 10,000 calls');

  t.is(r.ledger.issued, n);
  t.deepEqual(r.ledger.missing(), [], 'lost calls');
  t.deepEqual(r.ledger.duplicates(), [], 'calls settled twice');
  t.deepEqual(r.wrong.slice(0, 5), [], `${r.wrong.length} calls got another outcome than their own`);
  // Each agent takes what runs plus what its queue holds, and refuses the rest at once.
  for (const agent of agents) {
    const accepted = r.acceptedByAgent[agent.id] ?? 0;
    const issued = r.issuedByAgent[agent.id] ?? 0;
    if (issued > CONCURRENCY + QUEUE) t.true(accepted >= QUEUE && accepted <= CONCURRENCY + QUEUE, `agent ${agent.id} accepted ${accepted} of ${issued}`);
    else t.is(accepted, issued, `agent ${agent.id}, under its limits, accepted ${accepted} of ${issued}`);
  }
  const accepted = Object.values(r.acceptedByAgent).reduce((a, b) => a + b, 0);
  t.true(r.overloaded > 0);
  t.is(r.overloaded + accepted, n);
  // Bounded: what is accepted (≤ 4 × 1,088 calls, each a ~2 KiB input held as text and as an object, with its
  // promises) is tens of MiB; 10,000 calls all retained would be more, and a leak grows every round. The bound
  // is generous (a quarter GiB) so only unbounded queueing or retention fails it.
  t.true(r.peakHeapBytes - before < 256 * MiB, `peak heap grew by ${((r.peakHeapBytes - before) / MiB).toFixed(1)} MiB`);
  gc();
  const retained = process.memoryUsage().heapUsed - before;
  t.true(retained < 32 * MiB, `heap retained ${(retained / MiB).toFixed(1)} MiB after the burst`);
  // Responsive: timers and event-loop turns kept happening while the calls were pending (a host that blocked
  // its loop until the burst ended would show one turn at most).
  t.true(r.timerFires >= 3, `a 1 ms timer fired ${r.timerFires} times while calls were pending`);
  t.true(r.beats >= 3, `${r.beats} event-loop turns while calls were pending`);
  t.log(
    `${n} calls in ${r.elapsedMs.toFixed(0)} ms: ${JSON.stringify(r.ledger.tally())}; peak heap +${((r.peakHeapBytes - before) / MiB).toFixed(1)} MiB; ${r.timerFires} timer firings, ${r.beats} loop turns`,
  );
});
