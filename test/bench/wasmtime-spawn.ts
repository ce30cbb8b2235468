/**
 * `node test/bench/wasmtime-spawn.ts`: what one wasmtime-engine call costs
 * (bench-c `echo`, cached .cwasm, one call at a time) from a small host
 * process and from the same process once it holds a large heap (live JS
 * objects, as the bench harness does with every in-thread instance it keeps),
 * beside a bare `/bin/true` spawn from this process for scale. The host's
 * own CPU time per call shows the fork's cost even on a busy machine, where
 * wall times wander. Forking a
 * large process costs in proportion to its memory; spawning through the
 * helper (src/spawn/) should not. Not a test: figures depend on the machine.
 *
 *   BENCH_CALLS=60 BENCH_HEAP_MB=800 node test/bench/wasmtime-spawn.ts
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

/** Median wall time per call, and the host process's own CPU time per call (user + system: a fork is the parent's system time). */
async function perCall(): Promise<{ wall: number; cpu: number }> {
  for (let i = 0; i < 3; i++) await plugin.call('echo', INPUT); // warm: page cache, the helper's start
  const ms: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    const r = await plugin.call('echo', INPUT);
    ms.push(performance.now() - t0);
    if (r.output !== INPUT) throw new Error(`echo returned ${r.output}`);
  }
  const cpu = process.cpuUsage(cpu0);
  return { wall: median(ms), cpu: (cpu.user + cpu.system) / 1000 / CALLS };
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
  rows.push(`| ${where} (RSS ${mib(residentBytes())}) | ${call.wall.toFixed(1)} ms | ${call.cpu.toFixed(2)} ms | ${bare.toFixed(1)} ms |`);
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
// The collector's work on the new heap finished first (it would otherwise be charged to the first calls).
setFlagsFromString('--expose-gc');
(runInNewContext('gc') as () => void)();
await measure(`host with ${HEAP_MB} MB more live heap`);
await engine.close();

console.log(`wasmtime engine, bench-c echo, ${CALLS} calls one at a time; load average ${load0.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}`);
console.log('| host | wasmtime engine per call (median) | host CPU per call (mean) | /bin/true spawned by the host (median) |');
console.log('| --- | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
process.exit(hold.length > 0 ? 0 : 1);
