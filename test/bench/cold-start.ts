/**
 * `node test/bench/cold-start.ts`: what a worker costs before its first
 * call, for bench-c (no grants): in this warm process, `engine.load()` of
 * the cached component to its first result (a fresh engine each round, the
 * process's standby started again before each; then again with no standby,
 * each load starting its own thread), and the resident memory each
 * live worker adds (8 workers of one plugin) and what that plugin still
 * holds once parked (its workers stopped); in fresh processes, importing
 * the package entry (wall and CPU time), and bench-c's first result through
 * `airlock call` and through the library (import, PluginHost, load, call),
 * from spawn to its first byte on stdout and to exit. Then, when the Extism baseline can run here
 * (src/bench/targets/extism.ts: the dev dependency @extism/extism), the same
 * C code under Extism's JS SDK side by side, with the ratio: cold start and
 * warm echo in a worker thread (Airlock's worker engine) and in the main
 * thread (Airlock's in-thread call, no isolation), and resident memory per
 * live instance (each target's second batch: see figures()), and a fresh
 * process that imports the SDK, creates the plugin in a worker thread and
 * calls it once. Not a test:
 * figures depend on the machine.
 *
 *   BENCH_ROUNDS=15 node test/bench/cold-start.ts        # from src/ (type stripping included)
 *   npm run build && BENCH_DIST=1 node test/bench/cold-start.ts   # from dist/, as installed (the bundle)
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const LIVE = 8;
/** Main-thread instances are small: enough of them to rise above the resident memory's noise. */
const LIVE_IN_THREAD = 64;
const INPUT = '{"message":"hello","n":42}';
const ROOT = new URL('../../', import.meta.url);
const DIST = process.env.BENCH_DIST === '1';
/** A module of the tree this measures: src/x.ts, or dist/x.js once built. */
const mod = (path: string): string => new URL(DIST ? `dist/${path}.js` : `src/${path}.ts`, ROOT).href;

const { fixtureComponent } = (await import(mod('build/fixtures'))) as typeof import('../../src/build/fixtures.ts');
const { WasmEngine } = (await import(mod('engines/wasm/index'))) as typeof import('../../src/engines/wasm/index.ts');
const { computeGrants, defaultPolicy } = (await import(mod('grants/index'))) as typeof import('../../src/grants/index.ts');
const { loadPlugin } = (await import(mod('manifest/index'))) as typeof import('../../src/manifest/index.ts');
const { median, residentBytes } = (await import(mod('bench/index'))) as typeof import('../../src/bench/index.ts');
// The standby (absent before issue 21): each round waits until it has started again, as in a process that has been up a while.
const standbyModule = await import(mod('engines/wasm/standby')).then(
  (m: { standby?: { threads(): Promise<number[]>; resize?(n: number): void }; defaultStandbySize?(): number }) => m,
  () => undefined,
);
const standby = standbyModule?.standby;

const loadBefore = loadavg()[0]!;
const component = await fixtureComponent('bench-c');
const artefact = { kind: 'component', path: component } as const;
const grants = computeGrants(loadPlugin(fileURLToPath(new URL('fixtures/plugins/bench-c', ROOT))), defaultPolicy());

/** `standby`: undefined, the engine's default (a started worker waits to be adopted); 0, none (the load starts its thread). */
async function coldStart(standbySize?: number): Promise<number> {
  const engine = new WasmEngine(standbySize === undefined ? {} : { standby: standbySize });
  const t0 = performance.now();
  const p = await engine.load(grants, artefact);
  await p.call('echo', INPUT);
  const ms = performance.now() - t0;
  await engine.close();
  return ms;
}

await coldStart(); // warms the caches (transpile, module loading)
const colds: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  await standby?.threads();
  colds.push(await coldStart());
}
// The same without a standby: each load starts its worker thread (what a process pays before its standby is up).
const coldsNoStandby: number[] = [];
if (standby?.resize !== undefined) {
  standby.resize(0);
  for (let i = 0; i < ROUNDS; i++) coldsNoStandby.push(await coldStart(0));
  standby.resize(standbyModule?.defaultStandbySize?.() ?? 1);
}

const engine = new WasmEngine();
// The standby is full before and after (its refill is the host's, not the plugin's).
await standby?.threads();
const before = residentBytes();
const pool = await engine.load({ ...grants, resources: { ...grants.resources, concurrency: LIVE } }, artefact);
await Promise.all(Array.from({ length: LIVE }, () => pool.call('echo', INPUT)));
await standby?.threads();
const perWorker = (residentBytes() - before) / LIVE;
// The same plugin idle, parked (host policy `idle`; absent before issue 21's item 4): what it still holds once its workers are stopped.
const parkable = pool as { park?(): Promise<number> };
const idleParked = parkable.park === undefined ? undefined : (await parkable.park(), residentBytes() - before);
// Woken again: how much of what parking freed the new workers reuse (the allocator may keep a dead thread's pages mapped).
await Promise.all(Array.from({ length: LIVE }, () => pool.call('echo', INPUT)));
const woken = residentBytes() - before;
await engine.close();

const ms = (v: number): string => `${v.toFixed(1)} ms`;

/** Spawns `node args` and times its first byte on stdout (its first result) and its exit, from the spawn. */
function spawnTimes(args: string[]): Promise<{ first: number; exit: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let first: number | undefined;
    let stderr = '';
    child.stdout.on('data', () => {
      first ??= performance.now() - t0;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const exit = performance.now() - t0;
      if (code !== 0 || first === undefined) reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ first, exit });
    });
  });
}

const scratch = mkdtempSync(join(tmpdir(), 'airlock-cold-start-'));
// From dist/: the package as npm installs it (bin/, package.json, dist/ copied: no src/, so `airlock` runs the
// bundle, and no symlink for Node to resolve on every file), beside this checkout's node_modules.
const installed = join(scratch, 'package');
if (DIST) {
  for (const f of ['bin', 'dist', 'package.json']) cpSync(fileURLToPath(new URL(f, ROOT)), join(installed, f), { recursive: true });
  for (const f of ['wit', 'runtimes', 'node_modules']) symlinkSync(fileURLToPath(new URL(f, ROOT)), join(installed, f));
}
/** The library as `import('airlock')` finds it: package.json's export, or src/index.ts. */
const libraryEntry = DIST
  ? pathToFileURL(
      join(installed, (JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { exports: { '.': { default: string } } }).exports['.'].default),
    ).href
  : mod('index');
// The library's fresh process: import, a host, load, first call (the result printed once it is there).
const libraryScript = join(scratch, 'library.mjs');
writeFileSync(
  libraryScript,
  `const { PluginHost } = await import(${JSON.stringify(libraryEntry)});
const host = new PluginHost({});
await host.load(${JSON.stringify(fileURLToPath(new URL('fixtures/plugins/bench-c', ROOT)))});
const r = await host.call('bench-c_echo', ${INPUT});
process.stdout.write(JSON.stringify(r.value) + '\\n');
await host.close();
`,
);
const importWall: number[] = [];
const importCpu: number[] = [];
const calls: number[] = [];
const callFirst: number[] = [];
const libraryFirst: number[] = [];
const libraryExit: number[] = [];
const cli = DIST ? join(installed, 'bin', 'airlock.js') : fileURLToPath(new URL('src/cli/main.ts', ROOT));
// Once each before timing: what a first run leaves (V8's code cache of the bundle, the glue's) is there, as for a user's second call.
await spawnTimes([cli, 'call', fileURLToPath(new URL('fixtures/plugins/bench-c', ROOT)), 'echo', INPUT]);
await spawnTimes([libraryScript]);
for (let i = 0; i < Math.min(ROUNDS, 10); i++) {
  const [wall, cpu] = String(
    execFileSync(process.execPath, [
      '--input-type=module',
      '-e',
      `const c = process.cpuUsage(); const t = performance.now(); await import(${JSON.stringify(libraryEntry)}); const u = process.cpuUsage(c); process.stdout.write(\`\${performance.now() - t} \${(u.user + u.system) / 1000}\`);`,
    ]),
  )
    .split(' ')
    .map(Number);
  importWall.push(wall!);
  importCpu.push(cpu!);
  const call = await spawnTimes([cli, 'call', fileURLToPath(new URL('fixtures/plugins/bench-c', ROOT)), 'echo', INPUT]);
  callFirst.push(call.first);
  calls.push(call.exit);
  const library = await spawnTimes([libraryScript]);
  libraryFirst.push(library.first);
  libraryExit.push(library.exit);
}

// ---- the Extism baseline, side by side ----
type Bench = typeof import('../../src/bench/index.ts');
type Targets = typeof import('../../src/bench/targets/index.ts');
const bench = (await import(mod('bench/index'))) as Bench;
const targets = (await import(mod('bench/targets/index'))) as Partial<Targets>;
const { coldStart: targetColdStart } = (await import(mod('bench/cell'))) as typeof import('../../src/bench/cell.ts');
const setup = { plugin: bench.BENCH_PLUGINS['bench-c'], grants, component };
const signal = new AbortController().signal;

/** Cold starts (cached), warm echo p50 and resident memory per live instance of one target. */
async function figures(target: import('../../src/bench/index.ts').Target, n: number): Promise<{ cold: number; echo: number; rss: number }> {
  await targetColdStart(target, setup, signal);
  const cold: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await standby?.threads();
    cold.push(await targetColdStart(target, setup, signal));
  }
  const one = await target.open(setup, { instances: 1, signal });
  for (let i = 0; i < 200; i++) await one.call('echo', INPUT, signal);
  const echo = bench.median(await bench.sampleLatency(() => one.call('echo', INPUT, signal), { samples: 5000, ms: 1000 }));
  await one.close();
  // Twice, keeping the second: resident memory grows less once a batch of threads has come and gone (the
  // allocator keeps what they freed), so each target is measured after a batch of its own, not after the
  // other target's. The standby is full before and after (its refill is the host's, not the plugin's).
  let rss = 0;
  for (let round = 0; round < 2; round++) {
    await standby?.threads();
    const before = bench.residentBytes();
    const live = await target.open(setup, { instances: n, signal });
    // One call on each instance (sessions hand calls round).
    await Promise.all(Array.from({ length: n }, () => live.call('echo', INPUT, signal)));
    await standby?.threads();
    rss = (bench.residentBytes() - before) / n;
    await live.close();
  }
  return { cold: bench.median(cold), echo, rss };
}

let extismRows: string[] = [];
const extismWhy = targets.extismWorkerTarget === undefined ? 'this tree has no Extism baseline' : await targets.extismWorkerTarget.unavailable();
if (extismWhy === undefined && targets.extismWorkerTarget !== undefined && targets.extismMainTarget !== undefined) {
  const pairs = [
    ['worker thread', targets.workerTarget!, targets.extismWorkerTarget, LIVE],
    ['main thread', targets.inThreadTarget!, targets.extismMainTarget, LIVE_IN_THREAD],
  ] as const;
  for (const [where, ours, theirs, n] of pairs) {
    const a = await figures(ours, n);
    const b = await figures(theirs, n);
    const row = (what: string, x: number, y: number, show: (v: number) => string): string =>
      `| ${what}, ${where} | ${show(x)} | ${show(y)} | ${(x / y).toFixed(2)}× |`;
    extismRows.push(
      row('cold start, cached (load to first result)', a.cold, b.cold, (v) => `${v.toFixed(1)} ms`),
      row('warm echo p50', a.echo, b.echo, (v) => `${(v * 1000).toFixed(1)} µs`),
      row(`resident memory per live instance (${n} live)`, a.rss, b.rss, (v) =>
        v < 2 ** 20 ? `${(v / 1024).toFixed(0)} KiB` : `${(v / 2 ** 20).toFixed(1)} MiB`,
      ),
    );
  }
  // A fresh process each, as the library's above: import the SDK, a plugin in a worker thread, the first call.
  const wasmFile = join(scratch, 'bench-extism.wasm');
  writeFileSync(wasmFile, await (await import(mod('bench/targets/extism'))).extismBenchModule());
  const sdk = process.env.EXTISM_SDK === undefined ? import.meta.resolve('@extism/extism') : pathToFileURL(process.env.EXTISM_SDK).href;
  const extismScript = join(scratch, 'extism.mjs');
  writeFileSync(
    extismScript,
    `const { default: createPlugin } = await import(${JSON.stringify(sdk)});
const { readFileSync } = await import('node:fs');
const plugin = await createPlugin({ wasm: [{ data: readFileSync(${JSON.stringify(wasmFile)}) }] }, { useWasi: true, runInWorker: true });
const out = await plugin.call('echo', ${JSON.stringify(INPUT)});
process.stdout.write(out.text() + '\\n');
await plugin.close();
`,
  );
  const extismFirst: number[] = [];
  for (let i = 0; i < Math.min(ROUNDS, 10); i++) extismFirst.push((await spawnTimes([extismScript])).first);
  extismRows.push(
    `| fresh process, spawn to first result (the library: import, load, call / the SDK: import, createPlugin, call), worker thread | ${ms(median(libraryFirst))} | ${ms(median(extismFirst))} | ${(median(libraryFirst) / median(extismFirst)).toFixed(2)}× |`,
    `| … through \`airlock call\` | ${ms(median(callFirst))} | ${ms(median(extismFirst))} | ${(median(callFirst) / median(extismFirst)).toFixed(2)}× |`,
  );
} else {
  extismRows = [`(Extism baseline skipped: ${extismWhy})`];
}
rmSync(scratch, { recursive: true, force: true });

console.log(
  `bench-c on the worker engine, from ${DIST ? 'dist/ as installed (the bundle)' : 'src/'}, ${ROUNDS} rounds, ${availableParallelism()} cores, load average ${loadBefore.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}`,
);
console.log(
  `worker cold start, cached component, warm process (load() to first result), standby adopted: median ${ms(median(colds))} (min ${ms(Math.min(...colds))})`,
);
if (coldsNoStandby.length > 0)
  console.log(
    `worker cold start, cached component, warm process, no standby (thread start included): median ${ms(median(coldsNoStandby))} (min ${ms(Math.min(...coldsNoStandby))})`,
  );
console.log(`resident memory per live worker (${LIVE} live): ${(perWorker / 2 ** 20).toFixed(1)} MiB`);
if (idleParked !== undefined)
  console.log(
    `resident memory of that idle plugin (${LIVE} workers): ${((perWorker * LIVE) / 2 ** 20).toFixed(1)} MiB warm, ${(idleParked / 2 ** 20).toFixed(1)} MiB parked, ${(woken / 2 ** 20).toFixed(1)} MiB woken again`,
  );
console.log(`fresh process, import('airlock'): median ${ms(median(importWall))} wall, ${ms(median(importCpu))} CPU`);
console.log(`fresh process, \`airlock call\` bench-c: spawn to first result median ${ms(median(callFirst))}, to exit ${ms(median(calls))}`);
console.log(
  `fresh process, the library (import, PluginHost, load, first call): spawn to first result median ${ms(median(libraryFirst))}, to exit ${ms(median(libraryExit))}`,
);
console.log('');
console.log(
  `| figure (median of ${ROUNDS} cold starts) | Airlock | Extism ${targets.extismWorkerTarget === undefined ? '' : (await import(mod('bench/targets/extism'))).EXTISM_SDK_VERSION} | Airlock / Extism |`,
);
console.log('| --- | ---: | ---: | ---: |');
for (const r of extismRows) console.log(r);
