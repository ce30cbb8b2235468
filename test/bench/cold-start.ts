/**
 * `node test/bench/cold-start.ts`: what a worker costs before its first
 * call, for bench-c (no grants), in this warm process: `engine.load()` of
 * the cached component to its first result (a fresh engine each round), and
 * the resident memory each live worker adds (8 workers of one plugin). Not a
 * test: figures depend on the machine. `airlock bench` reports the same
 * figures beside every other engine.
 *
 *   BENCH_ROUNDS=20 node test/bench/cold-start.ts
 */
import { availableParallelism, loadavg } from 'node:os';
import { median, residentBytes } from '../../src/bench/index.ts';
import { fixtureComponent } from '../../src/build/fixtures.ts';
import { WasmEngine } from '../../src/engines/wasm/index.ts';
import { fixtureGrants } from '../engines/wasm/helpers.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const LIVE = 8;
const INPUT = '{"message":"hello","n":42}';
const loadBefore = loadavg()[0]!;
const component = await fixtureComponent('bench-c');
const artefact = { kind: 'component', path: component } as const;
const grants = fixtureGrants('bench-c');

async function coldStart(): Promise<{ loadMs: number; firstMs: number }> {
  const engine = new WasmEngine();
  const t0 = performance.now();
  const p = await engine.load(grants, artefact);
  const t1 = performance.now();
  await p.call('echo', INPUT);
  const t2 = performance.now();
  await engine.close();
  return { loadMs: t1 - t0, firstMs: t2 - t0 };
}

// Warm the caches (transpile, module loading) once.
await coldStart();
const loads: number[] = [];
const firsts: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const r = await coldStart();
  loads.push(r.loadMs);
  firsts.push(r.firstMs);
}

const engine = new WasmEngine();
const before = residentBytes();
const pool = await engine.load({ ...grants, resources: { ...grants.resources, concurrency: LIVE } }, artefact);
await Promise.all(Array.from({ length: LIVE }, () => pool.call('echo', INPUT)));
const perWorker = (residentBytes() - before) / LIVE;
await engine.close();

const ms = (v: number): string => `${v.toFixed(1)} ms`;
console.log(
  `bench-c on the worker engine, ${ROUNDS} rounds, ${availableParallelism()} cores, load average ${loadBefore.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}`,
);
console.log(`load() of a cached component: median ${ms(median(loads))} (min ${ms(Math.min(...loads))}, max ${ms(Math.max(...loads))})`);
console.log(`load() to first result:       median ${ms(median(firsts))} (min ${ms(Math.min(...firsts))}, max ${ms(Math.max(...firsts))})`);
console.log(`resident memory per live worker (${LIVE} live): ${(perWorker / 2 ** 20).toFixed(1)} MiB`);
