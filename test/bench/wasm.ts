/**
 * `npm run bench:wasm`: latency and throughput of the wasm worker engine for
 * a small echo component, beside the in-thread baseline (the same component
 * called directly in this thread). Prints a Markdown table. Not a test:
 * figures depend on the machine.
 *
 * Two rows measure the alternatives the engine's SharedArrayBuffer channel
 * replaces, with no wasm at all: a plain postMessage round trip to a worker,
 * and piscina running an echo task.
 *
 * Component: the C echo fixture (fixtures/plugins/echo-c), built by
 * buildPlugin (cached) and transpiled by the engine's own transpile step.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { pathToFileURL } from 'node:url';
import { WasmEngine, createInstance, runCall, type InstantiateFn } from '../../src/engines/wasm/index.ts';
import { prepareCoreModule } from '../../src/capabilities/index.ts';
import { Wasm, type WasmModule } from '../../src/engines/wasm/wasm-api.ts';
import { transpileComponent } from '../../src/engines/wasm/transpile.ts';
import { fixtureComponent } from '../../src/build/fixtures.ts';
import { makeGrants } from '../helpers/grants.ts';


const INPUT = '{"message":"hello"}';
const loadBefore = loadavg()[0]!;
const N = Number(process.env.BENCH_N ?? 20_000);
const THROUGHPUT_MS = Number(process.env.BENCH_MS ?? 2000);

function pct(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const mean = (samples: number[]): number => samples.reduce((a, b) => a + b, 0) / samples.length;
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;

const component = await fixtureComponent('echo-c');
const transpiled = await transpileComponent(component);

// ---- in-thread baseline ----
const grants = makeGrants();
const modules: Record<string, WasmModule> = {};
for (const [n, b] of Object.entries(transpiled.modules)) modules[n] = await Wasm.compile(prepareCoreModule(grants, b, n));
const { instantiate } = (await import(pathToFileURL(transpiled.glue).href)) as { instantiate: InstantiateFn };
const inst = createInstance(instantiate, modules, grants);
const inThread: number[] = [];
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  const r = runCall(inst, grants, 'echo', INPUT);
  inThread.push(performance.now() - t0);
  if (r.response.kind !== 'ok') throw new Error('echo failed in-thread');
}
const rawCall: number[] = [];
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  inst.call('echo', INPUT);
  rawCall.push(performance.now() - t0);
}
let t0 = performance.now();
let count = 0;
while (performance.now() - t0 < THROUGHPUT_MS / 2) {
  runCall(inst, grants, 'echo', INPUT);
  count++;
}
const inThreadRate = count / ((performance.now() - t0) / 1000);
const instCost: number[] = [];
const firstCall: number[] = [];
for (let i = 0; i < 2000; i++) {
  const t1 = performance.now();
  const fresh = createInstance(instantiate, modules, grants);
  const t2 = performance.now();
  runCall(fresh, grants, 'echo', INPUT);
  instCost.push(t2 - t1);
  firstCall.push(performance.now() - t2);
  // jco's glue frees an instance only after its timers ran (see worker.ts).
  if (i % 4 === 3) await new Promise((r) => setImmediate(r));
}

// ---- through the worker ----
const spin = {
  ...(process.env.BENCH_HOST_SPIN === undefined ? {} : { hostSpinMicros: Number(process.env.BENCH_HOST_SPIN) }),
  ...(process.env.BENCH_WORKER_SPIN === undefined ? {} : { workerSpinMicros: Number(process.env.BENCH_WORKER_SPIN) }),
};
const LANES = Number(process.env.BENCH_LANES ?? 2);
const engine = new WasmEngine(spin);

async function sequential(g: ReturnType<typeof makeGrants>, n: number): Promise<number[]> {
  const plugin = await engine.load(g, component);
  for (let i = 0; i < 2000; i++) await plugin.call('echo', INPUT); // warm up
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await plugin.call('echo', INPUT);
    samples.push(performance.now() - s);
  }
  await plugin.close();
  return samples;
}

/** Calls with a pause between them: per-call isolation then finds its next instance built already. */
async function spaced(g: ReturnType<typeof makeGrants>, n: number, gapMs: number): Promise<number[]> {
  const plugin = await engine.load(g, component);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    await new Promise((r) => setTimeout(r, gapMs));
    const s = performance.now();
    await plugin.call('echo', INPUT);
    samples.push(performance.now() - s);
  }
  await plugin.close();
  return samples;
}

async function throughput(workers: number): Promise<number> {
  const plugin = await engine.load(makeGrants({ resources: { concurrency: workers, queue: 1024 } }), component);
  for (let i = 0; i < 2000; i++) await plugin.call('echo', INPUT);
  let done = 0;
  const end = performance.now() + THROUGHPUT_MS;
  const lane = async () => {
    while (performance.now() < end) {
      await plugin.call('echo', INPUT);
      done++;
    }
  };
  const s = performance.now();
  await Promise.all(Array.from({ length: workers * LANES }, lane));
  const rate = done / ((performance.now() - s) / 1000);
  await plugin.close();
  return rate;
}

/** The channels the engine does not use, timed the same way: N sequential echo round trips. */
async function postMessageRoundTrip(n: number): Promise<number[]> {
  const worker = new Worker(`require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m));`, { eval: true });
  const once = () => new Promise<unknown>((r) => { worker.once('message', r); worker.postMessage(INPUT); });
  for (let i = 0; i < 1000; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await once();
    samples.push(performance.now() - s);
  }
  await worker.terminate();
  return samples;
}

async function piscinaRoundTrip(n: number): Promise<number[]> {
  const task = join(tmpdir(), `airlock-bench-echo-${process.pid}.mjs`);
  writeFileSync(task, 'export default (input) => input;\n');
  const pool = new Piscina({ filename: task, minThreads: 1, maxThreads: 1 });
  for (let i = 0; i < 1000; i++) await pool.run(INPUT);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await pool.run(INPUT);
    samples.push(performance.now() - s);
  }
  await pool.destroy();
  return samples;
}

const postMessageRtt = await postMessageRoundTrip(Math.min(N, 5000));
const piscinaRtt = await piscinaRoundTrip(Math.min(N, 5000));
const warm = await sequential(makeGrants(), N);
const perCall = await sequential(makeGrants({ isolation: 'per-call' }), Math.min(N, 5000));
const perCallSpaced = await spaced(makeGrants({ isolation: 'per-call' }), 300, 3);
const rate1 = await throughput(1);
const rate2 = await throughput(2);
await engine.close();

const rows: [string, string, string, string][] = [
  ['in-thread, raw glue call (no Airlock)', us(pct(rawCall, 50)), us(pct(rawCall, 99)), '—'],
  ['in-thread, with Airlock call handling', us(pct(inThread, 50)), us(pct(inThread, 99)), `${Math.round(inThreadRate).toLocaleString('en')} calls/s`],
  ['in-thread, instantiating a fresh instance', us(pct(instCost, 50)), us(pct(instCost, 99)), '—'],
  ['in-thread, first call on a fresh instance', us(pct(firstCall, 50)), us(pct(firstCall, 99)), '—'],
  ['worker, postMessage echo round trip (no wasm, no Airlock)', us(pct(postMessageRtt, 50)), us(pct(postMessageRtt, 99)), '—'],
  ['piscina, echo task (no wasm, no Airlock)', us(pct(piscinaRtt, 50)), us(pct(piscinaRtt, 99)), '—'],
  ['worker, warm (pooled), 1 worker', us(pct(warm, 50)), us(pct(warm, 99)), `${Math.round(rate1).toLocaleString('en')} calls/s`],
  ['worker, warm (pooled), 2 workers', '—', '—', `${Math.round(rate2).toLocaleString('en')} calls/s`],
  ['worker, per-call isolation, back to back', us(pct(perCall, 50)), us(pct(perCall, 99)), `${Math.round(1000 / mean(perCall)).toLocaleString('en')} calls/s (mean ${us(mean(perCall))})`],
  ['worker, per-call isolation, 3 ms between calls', us(pct(perCallSpaced, 50)), us(pct(perCallSpaced, 99)), `mean ${us(mean(perCallSpaced))}`],
];
console.log(`\nwasm engine, echo-c fixture, echo ${JSON.stringify(INPUT)} (${N} sequential calls per latency row; ${THROUGHPUT_MS} ms per throughput row)`);
// Figures from a busy machine are not the engine's: say how busy it was.
console.log(`${availableParallelism()} cores, 1-minute load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after\n`);
console.log('| path | p50 | p99 | throughput |');
console.log('|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(`\nbars: warm p50 <= 30 µs, p99 <= 150 µs, >= 50,000 calls/s with 2 workers, per-call isolation <= 0.5 ms per call`);
