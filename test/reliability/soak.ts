/**
 * `npm run soak [-- --minutes N]` (default 3): the load and fault tests in
 * full, repeated until time is up, on one host. Each round:
 *
 *   1. a burst of 10,000 calls issued at once by 3 wasm agents (echo-c,
 *      state) and, with Docker, a 4th agent calling a Docker plugin
 *      (conformance-node): every call gets exactly one result, its own, or
 *      `overloaded` past its agent's queue; every accepted call succeeds;
 *   2. every worker of echo-c killed (terminated from outside the engine)
 *      during a 2,000-call burst: calls end with their result or `crash`,
 *      none lost, the next call succeeds;
 *   3. with Docker, the container serving a call killed (`docker kill`):
 *      the caller gets `crash`, the next call succeeds.
 *
 * After each round (and a full GC) it samples heap, RSS, open fds, live
 * worker threads and Airlock containers, and the event-loop delay over the
 * round (perf_hooks.monitorEventLoopDelay). It prints the figures and exits
 * 1 when a round went wrong or a resource grew: the mean of the last third
 * of the samples against the first third (warm-up round excluded), with the
 * tolerances in TOLERANCE, and a least-squares slope for the record.
 * Last, the real dockerd stop and restart (./dockerd-restart.ts, which runs
 * only with AIRLOCK_TEST_RESTART_DOCKERD=1 and skips loudly otherwise).
 */
import Docker from 'dockerode';
import { spawnSync } from 'node:child_process';
import { hostname, cpus, totalmem } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LABEL_OWNER, LABEL_PLUGIN, OWNER } from '../../src/engines/docker/container.ts';
import { probeDocker } from '../../src/engines/probe.ts';
import { isAirlockError } from '../../src/errors.ts';
import { PluginHost, type Agent } from '../../src/host/index.ts';
import { fixture } from '../host/helpers.ts';
import { Ledger, openFds, trackWorkers, useRecordedDockerBaseImages, within, workersOf } from './helpers.ts';
import { burst, targetsFor, type BurstResult } from './load.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const live = trackWorkers();

const { values: args } = parseArgs({ options: { minutes: { type: 'string', default: '3' } } });
const minutes = Number(args.minutes);
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number (got ${args.minutes})`);

const MiB = 1024 * 1024;
const N = 10_000;
const BOUND_MS = 120_000;
/** Allowed growth, last third of the rounds against the first third. */
const TOLERANCE = {
  /** Heap after a full GC: 16 MiB (code caches, JIT, ajv) plus 10 %. */
  heapBytes: (first: number) => first * 0.1 + 16 * MiB,
  /** RSS also holds malloc arenas kept after worker threads exit, and code space: 64 MiB plus 10 %. */
  rssBytes: (first: number) => first * 0.1 + 64 * MiB,
  fds: () => 8,
  workers: () => 0,
  containers: () => 0,
};
/** Event-loop delay bars (soak only; tests never time): a stalled host shows here. */
const LOOP_P99_MS = 250;
const LOOP_MAX_MS = 2000;

const failures: string[] = [];
function check(ok: boolean, what: string): void {
  if (!ok) failures.push(what);
}

useRecordedDockerBaseImages();
const dockerProbe = await probeDocker({ timeoutMs: 5000 });
const useDocker = dockerProbe.available;
if (!useDocker) {
  if (process.env.AIRLOCK_REQUIRE_DOCKER === '1') throw new Error(`Docker is required (AIRLOCK_REQUIRE_DOCKER=1) but unavailable: ${dockerProbe.reason}`);
  process.stderr.write(`\n!!! soak without Docker: ${dockerProbe.reason ?? 'no daemon'}\n\n`);
}
const docker = new Docker();
async function ourContainers(): Promise<number> {
  if (!useDocker) return 0;
  return (await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABEL_OWNER}=${OWNER}`] }) })).length;
}

const host = new PluginHost({ engine: 'auto', agentConcurrency: 64, agentQueue: 1024 });
const wasmAgents: Agent[] = await Promise.all(['a', 'b', 'c'].map((id) => host.agent(id, { plugins: [fixture('echo-c'), fixture('state')] })));
const dockerAgents: Agent[] = useDocker ? [await host.agent('d', { plugins: [fixture('conformance-node')] })] : [];
const targets = targetsFor(wasmAgents, dockerAgents);

interface Sample {
  round: number;
  heapBytes: number;
  rssBytes: number;
  fds: number;
  workers: number;
  containers: number;
  loopP99Ms: number;
  loopMaxMs: number;
  burstMs: number;
}
const samples: Sample[] = [];
const tallies: Record<string, number> = {};

function record(r: BurstResult, what: string): void {
  check(r.ledger.missing().length === 0, `${what}: ${r.ledger.missing().length} calls lost`);
  check(r.ledger.duplicates().length === 0, `${what}: ${r.ledger.duplicates().length} calls settled twice`);
  check(r.wrong.length === 0, `${what}: ${r.wrong.length} calls got another outcome than their own, e.g. ${JSON.stringify(r.wrong.slice(0, 3))}`);
  check(r.overloaded > 0, `${what}: no call was overloaded past the queue limits`);
  for (const [k, v] of Object.entries(r.ledger.tally())) tallies[k] = (tallies[k] ?? 0) + v;
}

/** Phase 2: every echo-c worker killed during a burst. */
async function killWorkers(round: number): Promise<void> {
  const agent = wasmAgents[0] as Agent;
  const ledger = new Ledger();
  const all: Promise<void>[] = [];
  const base = 1_000_000_000 + round * 10_000;
  for (let i = 0; i < 2000; i++) {
    const id = base + i;
    all.push(ledger.track(id, async () => (await agent.call('echo-c_echo', { id })).value));
  }
  await within(ledger.when(100), BOUND_MS, 'the first calls of the kill burst');
  await Promise.all(workersOf('echo-c').map((w) => w.terminate()));
  await within(Promise.all(all), BOUND_MS, 'the kill burst');
  check(ledger.missing().length === 0 && ledger.duplicates().length === 0, `round ${round}: worker kill lost or duplicated calls`);
  for (const [id, o] of ledger.outcomes()) {
    const fine = o.ok ? (o.value as { id: number }).id === id : o.code === 'crash' || o.code === 'overloaded';
    check(fine, `round ${round}: after a worker kill, call ${id} got ${JSON.stringify(o)}`);
  }
  for (const [k, v] of Object.entries(ledger.tally())) tallies[`kill-worker ${k}`] = (tallies[`kill-worker ${k}`] ?? 0) + v;
  const after = await within(agent.call('echo-c_echo', { id: -1 }), BOUND_MS, 'the call after the worker kill');
  check((after.value as { id: number }).id === -1, `round ${round}: the call after a worker kill failed`);
}

/** Phase 3: the container serving a call killed. */
async function killContainer(round: number): Promise<void> {
  const agent = dockerAgents[0];
  if (agent === undefined) return;
  const spinning = agent.call('conformance-node_spin', {}, { timeout: 60_000 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  // The container serving the spin is the one busy; kill them all (concurrency 4): the idle ones are replaced too.
  const ours = await docker.listContainers({ filters: JSON.stringify({ label: [`${LABEL_OWNER}=${OWNER}`, `${LABEL_PLUGIN}=conformance-node`] }) });
  await Promise.all(
    ours.map((c) =>
      docker
        .getContainer(c.Id)
        .kill({ signal: 'SIGKILL' })
        .catch(() => undefined),
    ),
  );
  const e = await within(spinning, BOUND_MS, 'the call whose container was killed');
  check(isAirlockError(e, 'crash'), `round ${round}: a killed container gave ${String(e)}`);
  tallies['kill-container crash'] = (tallies['kill-container crash'] ?? 0) + (isAirlockError(e, 'crash') ? 1 : 0);
  const after = await within(agent.call('conformance-node_echo', { id: -2 }), BOUND_MS, 'the call after the container kill');
  check((after.value as { id: number }).id === -2, `round ${round}: the call after a container kill failed`);
}

const loop = monitorEventLoopDelay({ resolution: 10 });
const started = Date.now();
const deadline = started + minutes * 60_000;
let round = 0;
process.stdout.write(`soak: ${minutes} min, ${N} calls per burst, ${targets.length} targets (${useDocker ? 'with' : 'without'} Docker) on ${hostname()}\n`);
do {
  loop.reset();
  loop.enable();
  const r = await within(burst({ targets, n: N, padBytes: 256, firstId: round * N }), BOUND_MS, `round ${round}'s burst`);
  record(r, `round ${round}`);
  await killWorkers(round);
  await killContainer(round);
  loop.disable();
  gc();
  const mem = process.memoryUsage();
  const s: Sample = {
    round,
    heapBytes: mem.heapUsed,
    rssBytes: mem.rss,
    fds: openFds(),
    workers: live.size,
    containers: await ourContainers(),
    loopP99Ms: loop.percentile(99) / 1e6,
    loopMaxMs: loop.max / 1e6,
    burstMs: r.elapsedMs,
  };
  samples.push(s);
  process.stdout.write(
    `round ${String(round).padStart(3)}  burst ${s.burstMs.toFixed(0).padStart(5)} ms  heap ${(s.heapBytes / MiB).toFixed(1).padStart(6)} MiB  rss ${(s.rssBytes / MiB).toFixed(0).padStart(5)} MiB  fds ${s.fds}  workers ${s.workers}  containers ${s.containers}  loop p99 ${s.loopP99Ms.toFixed(1)} ms max ${s.loopMaxMs.toFixed(1)} ms\n`,
  );
  round++;
} while (Date.now() < deadline);

await within(host.close(), BOUND_MS, 'host.close()');
const closedWorkers = live.size;
const closedContainers = await ourContainers();

// ---- growth ----------------------------------------------------------------------------------------------
const steady = samples.length > 3 ? samples.slice(1) : samples;
const third = Math.max(1, Math.floor(steady.length / 3));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function slope(ys: number[]): number {
  const xs = ys.map((_, i) => i);
  const mx = mean(xs);
  const my = mean(ys);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : xs.reduce((a, x, i) => a + (x - mx) * ((ys[i] as number) - my), 0) / den;
}
const rows: string[] = [];
for (const key of ['heapBytes', 'rssBytes', 'fds', 'workers', 'containers'] as const) {
  const ys = steady.map((s) => s[key]);
  const first = mean(ys.slice(0, third));
  const last = mean(ys.slice(-third));
  const allowed = TOLERANCE[key](first);
  const scale = key.endsWith('Bytes') ? MiB : 1;
  const unit = key.endsWith('Bytes') ? ' MiB' : '';
  const f = (v: number) => `${(v / scale).toFixed(scale === 1 ? 1 : 1)}${unit}`;
  rows.push(`| ${key.replace('Bytes', '')} | ${f(first)} | ${f(last)} | ${f(last - first)} | ≤ ${f(allowed)} | ${f(slope(ys))}/round |`);
  check(last - first <= allowed, `${key} grew from ${f(first)} to ${f(last)} (allowed ${f(allowed)})`);
}
const p99 = Math.max(...samples.map((s) => s.loopP99Ms));
const max = Math.max(...samples.map((s) => s.loopMaxMs));
check(p99 <= LOOP_P99_MS, `event-loop delay p99 reached ${p99.toFixed(1)} ms (bar ${LOOP_P99_MS} ms)`);
check(max <= LOOP_MAX_MS, `event-loop delay max reached ${max.toFixed(1)} ms (bar ${LOOP_MAX_MS} ms)`);
check(closedWorkers === 0, `${closedWorkers} worker threads left after host.close()`);
check(closedContainers === 0, `${closedContainers} containers left after host.close()`);

const bursts = samples.map((s) => s.burstMs).sort((a, b) => a - b);
process.stdout.write(`
soak: ${samples.length} rounds in ${((Date.now() - started) / 60_000).toFixed(1)} min on ${hostname()} (${cpus().length} CPUs, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version})
calls: ${JSON.stringify(tallies)}
burst of ${N}: median ${(bursts[Math.floor(bursts.length / 2)] ?? 0).toFixed(0)} ms, max ${(bursts.at(-1) ?? 0).toFixed(0)} ms
event-loop delay per round: worst p99 ${p99.toFixed(1)} ms (bar ${LOOP_P99_MS}), worst max ${max.toFixed(1)} ms (bar ${LOOP_MAX_MS})
after close: ${closedWorkers} worker threads, ${closedContainers} containers

| resource (after GC) | first third | last third | growth | allowed | slope |
| --- | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}
`);
// In its own process: it stops the daemon, and its outcome must not depend on this host's state.
const restart = spawnSync(process.execPath, [new URL('./dockerd-restart.ts', import.meta.url).pathname], { stdio: 'inherit' });
check(restart.status === 0, `the dockerd restart run failed (status ${restart.status})`);
if (failures.length > 0) {
  process.stdout.write(
    `\nsoak FAILED:\n${failures
      .slice(0, 20)
      .map((f) => `  - ${f}`)
      .join('\n')}\n`,
  );
  process.exit(1);
}
process.stdout.write('\nsoak passed\n');
process.exit(0);
