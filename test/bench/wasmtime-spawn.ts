/**
 * `node test/bench/wasmtime-spawn.ts`: what one wasmtime-engine call costs
 * (bench-c `echo`, cached .cwasm, one call at a time) from a small host
 * process and from the same process once it holds a large heap (live JS
 * objects, as the bench harness does with every in-thread instance it keeps),
 * beside a bare `/bin/true` spawn from this process for scale. Forking a
 * large process costs in proportion to its memory; spawning through the
 * helper (src/spawn/) should not. Not a test: figures depend on the machine.
 *
 *   BENCH_CALLS=60 BENCH_HEAP_MB=800 node test/bench/wasmtime-spawn.ts
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fixtureComponent } from '../../src/build/fixtures.ts';
import { median } from '../../src/bench/stats.ts';
import { residentBytes } from '../../src/bench/memory.ts';
import { probeWasmtime, WasmtimeEngine } from '../../src/engines/wasmtime/index.ts';
import { computeGrants, defaultPolicy } from '../../src/grants/index.ts';
import { loadPlugin } from '../../src/manifest/index.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 60);
const HEAP_MB = Number(process.env.BENCH_HEAP_MB ?? 800);
const INPUT = '{"message":"hello","n":42}';

const probe = await probeWasmtime();
if (!probe.available) throw new Error(`wasmtime unavailable: ${probe.reason}`);
const grants = computeGrants(loadPlugin(fileURLToPath(new URL('../../fixtures/plugins/bench-c', import.meta.url))), defaultPolicy());
const component = await fixtureComponent('bench-c');
const engine = new WasmtimeEngine({ probe });
const plugin = await engine.load(grants, { kind: 'component', path: component });

async function perCall(): Promise<number> {
  for (let i = 0; i < 3; i++) await plugin.call('echo', INPUT); // warm: page cache, the helper's start
  const ms: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    const r = await plugin.call('echo', INPUT);
    ms.push(performance.now() - t0);
    if (r.output !== INPUT) throw new Error(`echo returned ${r.output}`);
  }
  return median(ms);
}

/** `/bin/true` spawned by this process itself: the fork's cost at this size. */
async function bareSpawn(): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) =>
      spawn('/bin/true', { stdio: 'ignore' })
        .once('close', () => resolve())
        .once('error', reject),
    );
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
const load0 = loadavg()[0]!;
const rows: string[] = [];
const measure = async (where: string): Promise<void> => {
  const call = await perCall();
  const bare = await bareSpawn();
  rows.push(`| ${where} (RSS ${mib(residentBytes())}) | ${call.toFixed(1)} ms | ${bare.toFixed(1)} ms |`);
};

await measure('small host');
// Live objects the collector cannot free: ~100-byte records, as a host holding many small values would.
const hold: unknown[] = [];
const target = residentBytes() + HEAP_MB * 2 ** 20;
while (residentBytes() < target) {
  const chunk: { a: number; b: string; c: number[] }[] = [];
  for (let i = 0; i < 100_000; i++) chunk.push({ a: i, b: `v${i}`, c: [i, i + 1] });
  hold.push(chunk);
}
await measure(`host with ${HEAP_MB} MB more live heap`);
await engine.close();

console.log(`wasmtime engine, bench-c echo, ${CALLS} calls one at a time; load average ${load0.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}`);
console.log('| host | wasmtime engine per call (median) | /bin/true spawned by the host (median) |');
console.log('| --- | ---: | ---: |');
for (const r of rows) console.log(r);
process.exit(hold.length > 0 ? 0 : 1);
