/**
 * `node test/bench/wasmtime-warm.ts`: the measurement behind a possible warm
 * wasmtime mode (issue 21, item 5), not a feature. One long-lived
 * `wasmtime run` process per plugin serving calls over its stdin: the
 * adapter component in ./wasmtime-warm/ (Rust, wasm32-wasip2) exports
 * wasi:cli/run, imports airlock:plugin/tools and loops reading calls; `wac
 * plug` composes it with bench-c. Printed beside it: the wasmtime engine's
 * process per call from this (small) process. Needs cargo with the
 * wasm32-wasip2 target and `wac` (crates.io: wac-cli) on PATH or in AIRLOCK_WAC.
 *
 *   AIRLOCK_WAC=/path/to/wac BENCH_CALLS=2000 node test/bench/wasmtime-warm.ts
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureComponent } from '../../src/build/fixtures.ts';
import { median } from '../../src/bench/stats.ts';
import { COMPILE_ARGS, probeWasmtime, WasmtimeEngine, wasmtimeCommand } from '../../src/engines/wasmtime/index.ts';
import { computeGrants, defaultPolicy } from '../../src/grants/index.ts';
import { loadPlugin } from '../../src/manifest/index.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const INPUT = '{"message":"hello","n":42}';
const ADAPTER_DIR = fileURLToPath(new URL('./wasmtime-warm/', import.meta.url));
const wac = process.env.AIRLOCK_WAC ?? 'wac';

const probe = await probeWasmtime();
if (probe.path === undefined || probe.version === undefined) throw new Error(`wasmtime unavailable: ${probe.reason}`);
const grants = computeGrants(loadPlugin(fileURLToPath(new URL('../../fixtures/plugins/bench-c', import.meta.url))), defaultPolicy());
const plugin = await fixtureComponent('bench-c');

// The adapter, then the adapter with bench-c plugged into its import.
execFileSync('cargo', ['build', '--release', '--target', 'wasm32-wasip2'], { cwd: ADAPTER_DIR, stdio: 'inherit' });
const adapter = join(ADAPTER_DIR, 'target/wasm32-wasip2/release/airlock-warm-adapter.wasm');
const composed = join(mkdtempSync(join(tmpdir(), 'airlock-warm-')), 'composed.wasm');
execFileSync(wac, ['plug', adapter, '--plug', plugin, '-o', composed], { stdio: 'inherit' });
// Compiled as the engine compiles a plugin (precompile() itself refuses a component that does not export the tools).
const cwasm = `${composed}.cwasm`;
execFileSync(probe.path, ['compile', ...COMPILE_ARGS, composed, '-o', cwasm], { stdio: 'inherit' });

// The grants' flags, but `-W timeout` is the whole process's deadline, not one call's: set far off (a warm mode would
// kill the process when a call runs past its own timeout, as the pool does now). Without it the epoch deadline is 0.
// stdin carries the calls, so it is inherited: the plugin could read it too (see the notes in ./wasmtime-warm/src/main.rs).
const args = wasmtimeCommand(grants).args.map((a) => (/^timeout=/.test(a) ? 'timeout=86400s' : a === 'inherit-stdin=n' ? 'inherit-stdin=y' : a));
const child = spawn(probe.path, ['run', '--allow-precompiled', ...args, cwasm], { stdio: ['pipe', 'pipe', 'inherit'], env: { RUST_BACKTRACE: '0' } });
const nonce = randomBytes(16).toString('hex');
child.stdin.write(`${nonce}\n`);
child.once('exit', (code, signal) => {
  if (waiting !== undefined) throw new Error(`the warm wasmtime process ended mid-call (${signal ?? code})`);
});

let buffered: Buffer = Buffer.alloc(0);
let waiting: ((b: Buffer) => void) | undefined;
child.stdout.on('data', (c: Buffer) => {
  buffered = Buffer.concat([buffered, c]);
  waiting?.(buffered);
});

/** One call: the frame `\n<nonce> ok|err <len>\n<payload>` after whatever the guest printed. */
function call(tool: string, input: string): Promise<string> {
  const t = Buffer.from(tool);
  const i = Buffer.from(input);
  child.stdin.write(`${t.length} ${i.length}\n`);
  child.stdin.write(Buffer.concat([t, i]));
  return new Promise((resolve) => {
    const check = (b: Buffer): void => {
      const at = b.indexOf(`\n${nonce} `);
      if (at < 0) return;
      const eol = b.indexOf('\n', at + 1);
      if (eol < 0) return;
      const [, kind, len] = b
        .subarray(at + 1, eol)
        .toString()
        .split(' ');
      const end = eol + 1 + Number(len);
      if (b.length < end) return;
      const payload = b.subarray(eol + 1, end).toString();
      buffered = b.subarray(end);
      waiting = undefined;
      resolve(kind === 'ok' ? payload : `error: ${payload}`);
    };
    waiting = check;
    check(buffered);
  });
}

async function sample(n: number, one: () => Promise<string>): Promise<number> {
  for (let k = 0; k < Math.min(50, n); k++) await one();
  const ms: number[] = [];
  for (let k = 0; k < n; k++) {
    const t0 = performance.now();
    const out = await one();
    ms.push(performance.now() - t0);
    if (out !== INPUT) throw new Error(`echo returned ${out}`);
  }
  return median(ms);
}

const load0 = loadavg()[0]!;
const warm = await sample(CALLS, () => call('echo', INPUT));
child.stdin.end();
const engine = new WasmtimeEngine({ probe });
const perCall = await engine.load(grants, { kind: 'component', path: plugin });
const cold = await sample(Math.min(CALLS, 100), async () => (await perCall.call('echo', INPUT)).output);
await engine.close();

console.log(`bench-c echo, one call at a time; load average ${load0.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}`);
console.log('| wasmtime | per call (median) |');
console.log('| --- | ---: |');
console.log(`| warm process, adapter composed with the plugin, calls over stdin (${CALLS} calls) | ${(warm * 1000).toFixed(0)} µs |`);
console.log(`| wasmtime engine, process per call through the spawn helper (${Math.min(CALLS, 100)} calls) | ${cold.toFixed(2)} ms |`);
