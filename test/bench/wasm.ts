/**
 * `npm run bench:wasm`: why the worker engine has its own SharedArrayBuffer
 * channel. The costs below the engine, in one run: a raw call into the
 * component's glue, the same call with Airlock's call handling (both in
 * this thread), building a fresh instance and its first call, and the two
 * channels the engine does not use (a plain postMessage round trip to a
 * worker, a piscina task), beside the engine's own warm and per-call
 * isolation latency, and its throughput on a pool of 2 workers (2 and 8
 * callers back to back). Engines against each other: `airlock bench`.
 *
 * Component: the C echo fixture (fixtures/plugins/echo-c). Not a test:
 * figures depend on the machine.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { latencyStats, loadInThread, median, sampleLatency } from '../../src/bench/index.ts';
import { fixtureComponent } from '../../src/build/fixtures.ts';
import { runCall, WasmEngine } from '../../src/engines/wasm/index.ts';
import { makeGrants } from '../helpers/grants.ts';

const INPUT = '{"message":"hello"}';
const loadBefore = loadavg()[0]!;
const N = Number(process.env.BENCH_N ?? 20_000);
const all = { samples: N, ms: Number.POSITIVE_INFINITY };
const some = { samples: Math.min(N, 5000), ms: Number.POSITIVE_INFINITY };

const component = await fixtureComponent('echo-c');
const grants = makeGrants();

// ---- in this thread ----
const inThread = await loadInThread(grants, component);
const inst = inThread.instances[0]!;
const rawCall = await sampleLatency(() => inst.call('echo', INPUT), all);
const handled = await sampleLatency(() => inThread.call('echo', INPUT), all);
const instCost: number[] = [];
const firstCall: number[] = [];
for (let i = 0; i < 2000; i++) {
  const t1 = performance.now();
  const fresh = inThread.newInstance();
  const t2 = performance.now();
  runCall(fresh, grants, 'echo', INPUT);
  instCost.push(t2 - t1);
  firstCall.push(performance.now() - t2);
  // jco's glue frees an instance only after its timers ran (see worker.ts).
  if (i % 4 === 3) await new Promise((r) => setImmediate(r));
}

// ---- the channels the engine does not use, no wasm ----
const worker = new Worker(`require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m));`, {
  eval: true,
});
const roundTrip = () =>
  new Promise<unknown>((r) => {
    worker.once('message', r);
    worker.postMessage(INPUT);
  });
for (let i = 0; i < 1000; i++) await roundTrip();
const postMessageRtt = await sampleLatency(roundTrip, some);
await worker.terminate();

const task = join(tmpdir(), `airlock-bench-echo-${process.pid}.mjs`);
writeFileSync(task, 'export default (input) => input;\n');
const pool = new Piscina({ filename: task, minThreads: 1, maxThreads: 1 });
for (let i = 0; i < 1000; i++) await pool.run(INPUT);
const piscinaRtt = await sampleLatency(() => pool.run(INPUT), some);
await pool.destroy();
rmSync(task, { force: true });

// ---- the engine ----
const engine = new WasmEngine();
async function engineLatency(isolation: 'pooled' | 'per-call', gapMs: number, budget: typeof all): Promise<number[]> {
  const plugin = await engine.load(makeGrants({ isolation }), { kind: 'component', path: component });
  if (isolation === 'pooled') for (let i = 0; i < 2000; i++) await plugin.call('echo', INPUT);
  const call = () => plugin.call('echo', INPUT);
  // A pause between calls (not timed) lets per-call isolation find its next instance built already.
  const samples = gapMs === 0 ? await sampleLatency(call, budget) : [];
  for (let i = 0; gapMs > 0 && i < budget.samples; i++) {
    await new Promise((r) => setTimeout(r, gapMs));
    const t0 = performance.now();
    await call();
    samples.push(performance.now() - t0);
  }
  await plugin.close();
  return samples;
}
const warm = await engineLatency('pooled', 0, all);
const perCall = await engineLatency('per-call', 0, some);
const perCallSpaced = await engineLatency('per-call', 3, { samples: 300, ms: Number.POSITIVE_INFINITY });

/**
 * Calls per second through a pool of 2 workers with `callers` back to back (each call with an abort signal, as
 * the host's are), after half a second of the same: the median of 5 windows of 0.6 s.
 */
async function engineThroughput(callers: number): Promise<number> {
  const plugin = await engine.load(makeGrants({ resources: { concurrency: 2 } }), { kind: 'component', path: component });
  const signal = new AbortController().signal;
  const window = async (ms: number): Promise<number> => {
    let calls = 0;
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: callers }, async () => {
        while (performance.now() < end) {
          await plugin.call('echo', INPUT, { signal });
          calls++;
        }
      }),
    );
    return calls / (ms / 1000);
  };
  await window(500);
  const windows: number[] = [];
  for (let i = 0; i < 5; i++) windows.push(await window(600));
  await plugin.close();
  return median(windows);
}
const throughput = [2, 8].map((callers) => [callers, 0] as [number, number]);
for (const t of throughput) t[1] = await engineThroughput(t[0]);
await engine.close();

const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
const rows: [string, number[]][] = [
  ['in-thread, raw glue call (no Airlock)', rawCall],
  ['in-thread, with Airlock call handling', handled],
  ['in-thread, instantiating a fresh instance', instCost],
  ['in-thread, first call on a fresh instance', firstCall],
  ['worker, postMessage echo round trip (no wasm, no Airlock)', postMessageRtt],
  ['piscina, echo task (no wasm, no Airlock)', piscinaRtt],
  ['worker engine, warm (pooled), 1 worker', warm],
  ['worker engine, `isolation: per-call`, back to back', perCall],
  ['worker engine, `isolation: per-call`, 3 ms between calls', perCallSpaced],
];
console.log(`\nwasm engine, echo-c fixture, echo ${INPUT}`);
// Figures from a busy machine are not the engine's: say how busy it was.
console.log(`${availableParallelism()} cores, 1-minute load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after\n`);
console.log('| path | n | p50 | p99 | mean |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, s] of rows) {
  const st = latencyStats(s);
  console.log(`| ${name} | ${st.n} | ${us(st.p50)} | ${us(st.p99)} | ${us(s.reduce((a, b) => a + b, 0) / s.length)} |`);
}
console.log('\n| worker engine, warm (pooled), 2 workers | calls/s |');
console.log('|---|---:|');
for (const [callers, perSecond] of throughput) console.log(`| ${callers} callers back to back | ${Math.round(perSecond).toLocaleString('en')} |`);
console.log(`\nbars: warm p50 <= 30 µs, p99 <= 150 µs, per-call isolation <= 0.5 ms per call, >= 50,000 calls/s on 2 workers`);
