/**
 * `npm run bench:hostile`: what hostile plugin data costs the host's event
 * loop. Phase "quiet": echo-c (wasm worker engine) called back to back.
 * Phase "hostile": the same, while another task keeps validating the
 * 30-character-mount manifest and one near the caps (as the CLI and the host do: off the main thread) and calling hostile-schema's tools (ReDoS
 * patterns in its input and output schemas, a uniqueItems bomb in its
 * output). Prints the worst event-loop stall (perf_hooks
 * monitorEventLoopDelay), the peak resident memory, echo-c's p50/p99 in each
 * phase, and how the hostile calls ended. Also times the old MOUNT pattern
 * on a short hostile mount, for scale. Not a test: figures depend on the machine.
 *
 * BENCH_SECONDS sets each phase's length (default 10).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { describeMachine, percentile } from '../../src/bench/index.ts';
import { isAirlockError } from '../../src/errors.ts';
import { PluginHost } from '../../src/host/index.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { validatePluginOffThread } from '../../src/manifest/index.ts';
import { BOMB_ITEMS, REDOS_TEXT } from '../security/hostile-inputs.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const STALL_MS = 20;
const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/plugins/${name}`, import.meta.url));

/** A manifest near the caps (256 tools, ~240 KiB): seconds of YAML and schema work, all of it the plugin's text. */
const heavy = mkdtempSync(join(tmpdir(), 'airlock-bench-heavy-'));
process.once('exit', () => rmSync(heavy, { recursive: true, force: true }));
{
  const props = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`field_${i}`, { type: 'string', description: `field ${i}` }]));
  const tools = Array.from({ length: 256 }, (_, i) => ({ name: `tool_${i}`, description: `tool ${i}`, input: { type: 'object', properties: props } }));
  writeFileSync(
    join(heavy, 'plugin.yaml'),
    stringify({ apiVersion: 'airlock/v1', name: 'heavy', version: '1.0.0', runtime: 'wasm', entry: 'plugin.wasm', tools }, { aliasDuplicateObjects: false }),
  );
  writeFileSync(join(heavy, 'plugin.wasm'), '');
}

const host = new PluginHost({ engine: 'wasm' });
await host.load(fixture('echo-c'));
await host.load(fixture('hostile-schema'));
for (let i = 0; i < 500; i++) await host.call('echo-c_echo', { i }); // warm-up

let peakRss = process.memoryUsage().rss;
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 10);

async function phase(
  hostile: boolean,
): Promise<{ latencies: number[]; maxStallMs: number; p999StallMs: number; peakRssMiB: number; outcomes: Map<string, number>; stalls: Map<string, number[]> }> {
  const outcomes = new Map<string, number>();
  let stop = false;
  // Which hostile step was under way when the loop stalled past STALL_MS (the histogram has no labels).
  let step = 'echo only';
  const stalls = new Map<string, number[]>();
  let last = performance.now();
  const watch = setInterval(() => {
    const now = performance.now();
    if (now - last > STALL_MS) stalls.set(step, [...(stalls.get(step) ?? []), Math.round(now - last)]);
    last = now;
  }, 1);
  const end = (label: string, code: string): void => {
    outcomes.set(`${label} → ${code}`, (outcomes.get(`${label} → ${code}`) ?? 0) + 1);
  };
  const attempt = async (label: string, p: () => unknown): Promise<void> => {
    step = label;
    try {
      await p();
      end(label, 'ok');
    } catch (err) {
      end(label, isAirlockError(err) ? err.code : String(err));
    }
  };
  const attacker = (async () => {
    while (hostile && !stop) {
      step = 'validate 30-char mount';
      end('validate 30-char mount', (await validatePluginOffThread(fixture('hostile-mount'))).ok ? 'ok' : 'problems reported');
      step = 'validate 256 tools, 240 KiB';
      end('validate 256 tools, 240 KiB', (await validatePluginOffThread(heavy)).ok ? 'ok' : 'problems reported');
      await attempt('load 30-char mount', () => host.load(fixture('hostile-mount')));
      await attempt('input ReDoS (10^5 chars)', () => host.call('hostile-schema_in_redos', { s: REDOS_TEXT }));
      await attempt('output ReDoS (10^5 chars)', () => host.call('hostile-schema_out_redos', { s: REDOS_TEXT }));
      await attempt('uniqueItems bomb (60 000 objects)', () => host.call('hostile-schema_out_bomb', { items: BOMB_ITEMS }));
    }
  })();
  peakRss = process.memoryUsage().rss;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const latencies: number[] = [];
  const until = performance.now() + SECONDS * 1000;
  while (performance.now() < until) {
    const t = performance.now();
    await host.call('echo-c_echo', { n: latencies.length });
    latencies.push(performance.now() - t);
  }
  loop.disable();
  clearInterval(watch);
  stop = true;
  await attacker;
  return { latencies, maxStallMs: loop.max / 1e6, p999StallMs: loop.percentile(99.9) / 1e6, peakRssMiB: peakRss / 2 ** 20, outcomes, stalls };
}

const quiet = await phase(false);
const hostile = await phase(true);
clearInterval(rssTimer);
await host.close();

// For scale: the MOUNT pattern as it was, on mounts of 20 to 24 characters.
const OLD_MOUNT = /^\/(?:[A-Za-z0-9._-]+\/?)*$/;
const old: string[] = [];
for (const n of [20, 22, 24]) {
  const t = performance.now();
  OLD_MOUNT.test(`/${'a'.repeat(n - 2)}!`);
  old.push(`${n} chars: ${(performance.now() - t).toFixed(0)} ms`);
}

const m = describeMachine();
const us = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`;
console.log(
  `\n## Hostile plugin data (${SECONDS} s per phase; ${m.cpu}, ${m.cores} cores, load ${m.loadBefore.map((l) => l.toFixed(2)).join(' ')}, Node ${process.versions.node})\n`,
);
console.log('| phase | echo-c calls | p50 | p99 | event-loop delay p99.9 | worst stall | peak RSS |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [name, r] of [
  ['quiet', quiet],
  ['hostile plugins loaded and called', hostile],
] as const) {
  console.log(
    `| ${name} | ${r.latencies.length} | ${us(percentile(r.latencies, 50))} | ${us(percentile(r.latencies, 99))} | ${r.p999StallMs.toFixed(1)} ms | ${r.maxStallMs.toFixed(1)} ms | ${r.peakRssMiB.toFixed(0)} MiB |`,
  );
}
console.log(`\np99 ratio hostile/quiet: ${(percentile(hostile.latencies, 99) / percentile(quiet.latencies, 99)).toFixed(2)}\n`);
console.log('| hostile attempt → outcome | count |');
console.log('| --- | ---: |');
for (const [k, v] of hostile.outcomes) console.log(`| ${k} | ${v} |`);
for (const [name, r] of [
  ['quiet', quiet],
  ['hostile', hostile],
] as const) {
  console.log(`\nStalls over ${STALL_MS} ms (${name}): ${[...r.stalls].map(([k, v]) => `${k}: ${v.join(', ')} ms`).join('; ') || 'none'}`);
}
console.log(`\nThe old MOUNT pattern on V8: ${old.join(', ')}`);
