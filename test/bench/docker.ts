/**
 * `npm run bench:docker`: the Docker engine's warm-call latency beside a
 * fresh `docker run --rm` per call (the same image, hardening and request,
 * in the same run), and the time to "rebuild" an unchanged plugin (hash the
 * folder, find the image by tag). Prints a Markdown table and the bars from
 * issue 4. Not a test: figures depend on the machine.
 *
 * Plugin: fixtures/plugins/node-deps, tool `echo`. Base images: as for the
 * engine (AIRLOCK_NODE_IMAGE, else the ones .ci/setup-docker.sh recorded).
 */
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerEngine, dockerRunSpec } from '../../src/engines/docker/index.ts';
import { computeGrants } from '../../src/grants/grant.ts';
import { defaultPolicy } from '../../src/grants/policy.ts';
import { loadPlugin } from '../../src/manifest/index.ts';
import { cacheDir } from '../../src/paths.ts';

const WARM_N = Number(process.env.BENCH_N ?? 2000);
const RUN_N = Number(process.env.BENCH_RUN_N ?? 10);
const REBUILD_N = Number(process.env.BENCH_REBUILD_N ?? 5);
const INPUT = '{"message":"hello"}';

// Same fallback as the tests: the env, else what .ci/setup-docker.sh recorded.
try {
  for (const m of readFileSync(cacheDir('docker-base', 'env'), 'utf8').matchAll(/^export (\w+)=(.*)$/gm)) process.env[m[1] as string] ??= m[2] as string;
} catch {
  // defaults
}

function pct(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}
const ms = (v: number): string => `${v.toFixed(v < 10 ? 3 : 1)} ms`;

const plugin = loadPlugin(join(import.meta.dirname, '../../fixtures/plugins/node-deps'));
const grants = computeGrants(plugin, defaultPolicy());
const engine = new DockerEngine();

const built = await engine.build(grants, { onProgress: (e) => e.type === 'step' && process.stderr.write(`build: ${e.step}\n`) });
const p = await engine.load(grants);

// ---- warm calls ----
for (let i = 0; i < 100; i++) await p.call('echo', INPUT);
const warm: number[] = [];
for (let i = 0; i < WARM_N; i++) {
  const t0 = performance.now();
  const r = await p.call('echo', INPUT);
  warm.push(performance.now() - t0);
  if (r.output !== INPUT) throw new Error(`unexpected output ${r.output}`);
}

// ---- the same for a python plugin (no bar; for comparison) ----
const pyGrants = computeGrants(loadPlugin(join(import.meta.dirname, '../../fixtures/plugins/python-deps')), defaultPolicy());
const py = await engine.load(pyGrants);
for (let i = 0; i < 100; i++) await py.call('echo', INPUT);
const pyWarm: number[] = [];
for (let i = 0; i < WARM_N; i++) {
  const t0 = performance.now();
  await py.call('echo', INPUT);
  pyWarm.push(performance.now() - t0);
}
await py.close();

// ---- isolation: per-call (a fresh, pre-started container per call; back to back, so each call waits for the next start) ----
const fresh = await engine.load({ ...grants, isolation: 'per-call' });
const perCall: number[] = [];
for (let i = 0; i < RUN_N; i++) {
  const t0 = performance.now();
  await fresh.call('echo', INPUT);
  perCall.push(performance.now() - t0);
}
await fresh.close();

// ---- docker run --rm per call, with the same hardening ----
const spec = dockerRunSpec(grants);
const h = spec.hostConfig;
const runArgs = [
  'run', '--rm', '-i', '--log-driver', 'none',
  '--network', 'none', '--user', '10001:10001', '--init', '--read-only',
  '--memory', String(h.Memory), '--memory-swap', String(h.MemorySwap), '--cpus', String((h.NanoCpus ?? 1e9) / 1e9),
  '--pids-limit', String(h.PidsLimit), '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges:true',
  '--tmpfs', `/tmp:${h.Tmpfs?.['/tmp'] ?? ''}`,
  ...Object.entries(spec.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
  built.tag,
];
function dockerRunOnce(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('docker', runArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      // The ready line, then our result: close stdin so the host exits.
      if (out.includes('"type":"result"')) child.stdin.end();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!out.includes('"ok":true')) reject(new Error(`docker run failed (${code}): ${out}`));
      else resolve(performance.now() - t0);
    });
    // The in-container host reads a hello line with its error token first, as the engine sends it.
    child.stdin.write(`${JSON.stringify({ type: 'hello', token: randomUUID() })}\n`);
    child.stdin.write(`${JSON.stringify({ id: 1, tool: 'echo', input: JSON.parse(INPUT) })}\n`);
  });
}
const runs: number[] = [];
for (let i = 0; i < RUN_N; i++) runs.push(await dockerRunOnce());

// ---- unchanged rebuild ----
const rebuilds: number[] = [];
for (let i = 0; i < REBUILD_N; i++) {
  const t0 = performance.now();
  const r = await engine.build(grants);
  rebuilds.push(performance.now() - t0);
  if (r.built) throw new Error('an unchanged plugin was rebuilt');
}
await p.close();

const warmP50 = pct(warm, 50);
const runP50 = pct(runs, 50);
const ratio = runP50 / warmP50;
const rebuildMax = Math.max(...rebuilds);
console.log(`\n## Docker engine, ${plugin.manifest.name}.echo (${process.env.AIRLOCK_NODE_IMAGE ?? 'node:24-bookworm-slim'})\n`);
console.log('| measure | n | p50 | p99 |');
console.log('|---|---:|---:|---:|');
console.log(`| warm call (pooled container, stdio) | ${WARM_N} | ${ms(warmP50)} | ${ms(pct(warm, 99))} |`);
console.log(`| warm call, python-deps.echo (async def) | ${WARM_N} | ${ms(pct(pyWarm, 50))} | ${ms(pct(pyWarm, 99))} |`);
console.log(`| \`isolation: per-call\`, calls back to back | ${RUN_N} | ${ms(pct(perCall, 50))} | ${ms(pct(perCall, 99))} |`);
console.log(`| \`docker run --rm\` per call, same flags | ${RUN_N} | ${ms(runP50)} | ${ms(pct(runs, 99))} |`);
console.log(`| unchanged rebuild (hash + find image) | ${REBUILD_N} | ${ms(pct(rebuilds, 50))} | ${ms(rebuildMax)} (max) |`);
console.log(`\nwarm call is ${ratio.toFixed(0)}x faster than docker run per call\n`);
const bars: [string, boolean][] = [
  [`warm p50 <= 2 ms (${ms(warmP50)})`, warmP50 <= 2],
  [`>= 100x faster than docker run (${ratio.toFixed(0)}x)`, ratio >= 100],
  [`unchanged rebuild <= 1 s (max ${ms(rebuildMax)})`, rebuildMax <= 1000],
];
for (const [what, ok] of bars) console.log(`${ok ? 'PASS' : 'FAIL'}  ${what}`);
process.exitCode = bars.every(([, ok]) => ok) ? 0 : 1;
