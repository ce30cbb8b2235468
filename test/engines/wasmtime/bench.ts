/**
 * Per-call latency of the wasmtime CLI engine (one process per call, on the
 * precompiled .cwasm) for the echo tool of fixtures/plugins/echo-c. Not a test:
 *   node test/engines/wasmtime/bench.ts [calls=200]
 */
import { WasmtimeEngine } from '../../../src/engines/wasmtime/index.ts';
import { makeGrants } from '../../helpers/grants.ts';
import { fixtureComponent } from '../../../src/build/fixtures.ts';

const calls = Number(process.argv[2] ?? 200);
const component = await fixtureComponent('echo-c');
const engine = new WasmtimeEngine();
const grants = makeGrants({ plugin: { name: 'echo-c', entry: component }, resources: { concurrency: 2, queue: 1000 } });
const t0 = performance.now();
const plugin = await engine.load(grants, component);
const loadMs = performance.now() - t0;
for (let i = 0; i < 10; i++) await plugin.call('echo', '{"x":1}');
const times: number[] = [];
for (let i = 0; i < calls; i++) {
  const s = performance.now();
  await plugin.call('echo', '{"x":1}');
  times.push(performance.now() - s);
}
times.sort((a, b) => a - b);
const q = (p: number): string => (times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? NaN).toFixed(2);
const par = performance.now();
await Promise.all(Array.from({ length: 100 }, () => plugin.call('echo', '{"x":1}')));
const perSec = 100 / ((performance.now() - par) / 1000);
console.log(`wasmtime engine, echo, ${calls} sequential calls: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, min ${q(0)} ms; load ${loadMs.toFixed(0)} ms; ${perSec.toFixed(0)} calls/s with concurrency 2`);
await engine.close();
