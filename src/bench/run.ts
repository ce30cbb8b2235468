/**
 * One benchmark run: every (target, plugin) cell, in interleaved rounds
 * (./schedule.ts), each round measuring cold starts (with and without
 * caches), warm latency of both tools, throughput at each concurrency
 * level and memory per live instance; plus, once per plugin and round, the
 * build steps from source with empty caches. Every result is checked
 * (./plugins.ts): a wrong answer stops the run.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { buildPlugin } from '../build/index.ts';
import { componentEntry } from '../build/fixtures.ts';
import { DockerEngine } from '../engines/docker/index.ts';
import { AirlockError } from '../errors.ts';
import { computeGrants, defaultPolicy } from '../grants/index.ts';
import type { Grants } from '../grants/types.ts';
import { componentFor } from '../provider/index.ts';
import { loadPlugin } from '../manifest/index.ts';
import { freshCacheRoot } from './cache.ts';
import { collectVersions, describeMachine, type Machine, type Versions } from './machine.ts';
import { BENCH_PLUGINS, BENCH_TOOLS, checkResult, HASH_SIZE, INPUTS, type BenchPlugin, type BenchPluginName, type BenchTool } from './plugins.ts';
import { sampleLatency } from './measure.ts';
import { interleave } from './schedule.ts';
import { latencyStats, spread, type LatencyStats, type Spread } from './stats.ts';
import type { Budget, PluginSetup, Session, Target, TargetName } from './target.ts';
import { ALL_TARGETS } from './targets/index.ts';

export interface BenchConfig {
  targets: TargetName[];
  /** The targets were named by the user: an unavailable one is an error, not a skip. */
  explicitTargets: boolean;
  plugins: BenchPluginName[];
  rounds: number;
  concurrency: number[];
  /** Multiplies every sample and time budget (0.05 for a smoke test); 1 for real figures. */
  budgetScale: number;
  /** The command line, recorded in the report. */
  command: string;
}

export type BenchStep = 'prime' | 'build' | 'cold' | 'cold-uncached' | 'latency' | 'throughput' | 'memory';

export type ProgressEvent =
  | { type: 'start'; total: number; skipped: SkippedTarget[] }
  | { type: 'step'; index: number; total: number; round: number; rounds: number; target?: TargetName; plugin: BenchPluginName; step: BenchStep }
  | { type: 'done'; wallMs: number };

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** Runs these instead of the built-in targets of the same names (tests). */
  implementations?: Partial<Record<TargetName, Target>>;
}

export interface SkippedTarget {
  target: TargetName;
  reason: string;
}

/** One cell's figures in one round. */
export interface CellRound {
  round: number;
  /** Load the plugin, first result; every cache warm. */
  coldCachedMs: number;
  /** Load with empty transpile/compile caches (a fresh image for Docker) to first result: jco transpile, core-module or .cwasm compile, instantiate. */
  loadUncachedMs: number | undefined;
  /** loadUncachedMs plus this round's build from source (component, or image): a first run with nothing cached. */
  coldUncachedMs: number | undefined;
  latency: Record<BenchTool, LatencyStats>;
  /** Calls per second of `echo`, per concurrency level. */
  throughput: Record<string, number>;
  memoryBytes: number | undefined;
}

export interface CellSummary {
  coldCachedMs: Spread | undefined;
  loadUncachedMs: Spread | undefined;
  coldUncachedMs: Spread | undefined;
  latency: Record<BenchTool, { p50: Spread | undefined; p95: Spread | undefined; p99: Spread | undefined }>;
  throughput: Record<string, Spread | undefined>;
  memoryBytes: Spread | undefined;
  /** Median over median: this target's figure / the in-thread baseline's for the same plugin (latency: > 1 is slower; throughput: < 1 is fewer calls). */
  ratio: { echoP50?: number; hashP50?: number; throughput1?: number };
}

export interface CellResult {
  target: TargetName;
  plugin: BenchPluginName;
  instances: number;
  rounds: CellRound[];
  summary: CellSummary;
}

/** component: source to component (componentize-js/-py, clang); image: the plugin's Docker image on a cached base. */
export type BuildStage = 'component' | 'image';

export interface BuildFigure {
  plugin: BenchPluginName;
  stage: BuildStage;
  summary: Spread | undefined;
}

export interface CellFailure {
  round: number;
  target: TargetName;
  plugin: BenchPluginName;
  message: string;
}

export interface TargetInfo {
  name: TargetName;
  label: string;
  kind: 'engine' | 'baseline';
  form: 'component' | 'source';
}

export interface BenchReport {
  schema: 'airlock-bench/1';
  command: string;
  startedAt: string;
  wallMs: number;
  machine: Machine;
  versions: Versions;
  config: BenchConfig & { hashSize: number; inputs: Record<BenchTool, string>; budgets: Record<string, unknown> };
  targets: TargetInfo[];
  skipped: SkippedTarget[];
  /** Cell rounds that failed (no figures from them); the command exits 1 when there are any. */
  failures: CellFailure[];
  plugins: { name: BenchPluginName; language: string }[];
  cells: CellResult[];
  builds: BuildFigure[];
}

const MIN_SAMPLES = 3;

function scaled(b: Budget, scale: number): Budget {
  return { samples: Math.max(1, Math.round(b.samples * scale)), ms: b.ms * scale };
}

/** Calls `tool` and checks the result; later calls compare to the first checked text (cheap), checking again on a difference. */
class CheckedCaller {
  readonly #known = new Map<BenchTool, string>();
  readonly #where: string;
  constructor(where: string) {
    this.#where = where;
  }
  async call(session: Session, tool: BenchTool, signal: AbortSignal): Promise<void> {
    const out = await session.call(tool, INPUTS[tool], signal);
    if (this.#known.get(tool) === out) return;
    checkResult(this.#where, tool, out);
    this.#known.set(tool, out);
  }
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new AirlockError('aborted', 'the benchmark was aborted');
}

async function latency(session: Session, caller: CheckedCaller, tool: BenchTool, budget: Budget, signal: AbortSignal): Promise<LatencyStats> {
  return latencyStats(await sampleLatency(() => caller.call(session, tool, signal), budget, { min: MIN_SAMPLES, signal }));
}

/** `lanes` callers back to back until the budget's calls or time run out; every lane makes at least one call. */
async function throughput(session: Session, caller: CheckedCaller, lanes: number, budget: Budget, signal: AbortSignal): Promise<number> {
  let started = 0;
  let done = 0;
  const t0 = performance.now();
  const end = t0 + budget.ms;
  const lane = async (): Promise<void> => {
    let mine = 0;
    while (mine === 0 || (started < budget.samples && performance.now() < end)) {
      throwIfAborted(signal);
      started++;
      mine++;
      await caller.call(session, 'echo', signal);
      done++;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return done / ((performance.now() - t0) / 1000);
}

async function coldStart(target: Target, setup: PluginSetup, signal: AbortSignal, cacheRoot?: string): Promise<number> {
  const caller = new CheckedCaller(`${target.name}/${setup.plugin.name} (cold start)`);
  const t0 = performance.now();
  const session = await target.open(setup, { instances: 1, signal, ...(cacheRoot === undefined ? {} : { cacheRoot }) });
  try {
    await caller.call(session, 'echo', signal);
    return performance.now() - t0;
  } finally {
    await session.close();
  }
}

function grantsOf(dir: string): Grants {
  return computeGrants(loadPlugin(dir), defaultPolicy());
}

/** This round's build of a plugin from source with empty caches, and a copy Docker builds as a new image. */
interface RoundBuild {
  stages: Partial<Record<BuildStage, number>>;
  /** A copy of the plugin with a nonce file: a new content hash, so a new image (Docker's "without cache"). */
  freshDocker?: { setup: PluginSetup; dir: string; tag: string };
}

async function buildFromScratch(plugin: BenchPlugin, base: PluginSetup, wantImage: boolean, signal: AbortSignal): Promise<RoundBuild> {
  const stages: RoundBuild['stages'] = {};
  const entry = componentEntry(plugin.dir);
  if (entry !== undefined) {
    const cache = freshCacheRoot();
    try {
      const t = performance.now();
      await buildPlugin(plugin.dir, { entry, cacheRoot: cache.root });
      stages.component = performance.now() - t;
    } finally {
      cache.remove();
    }
  }
  throwIfAborted(signal);
  if (!wantImage) return { stages };
  const dir = mkdtempSync(join(tmpdir(), `airlock-bench-${plugin.name}-`));
  cpSync(plugin.dir, dir, { recursive: true });
  writeFileSync(join(dir, 'bench-nonce.txt'), `${process.pid} ${Date.now()} ${Math.random()}\n`);
  const grants = grantsOf(dir);
  const engine = new DockerEngine({ cleanupOrphans: false });
  try {
    const t = performance.now();
    const image = await engine.build(grants, { signal });
    stages.image = performance.now() - t;
    return { stages, freshDocker: { setup: { ...base, grants }, dir, tag: image.tag } };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    await engine.close();
  }
}

async function removeFresh(b: RoundBuild): Promise<void> {
  if (b.freshDocker === undefined) return;
  rmSync(b.freshDocker.dir, { recursive: true, force: true });
  await new Docker()
    .getImage(b.freshDocker.tag)
    .remove({ force: true })
    .catch(() => undefined);
}

function ratio(a: Spread | undefined, b: Spread | undefined): number | undefined {
  return a === undefined || b === undefined || b.median === 0 ? undefined : a.median / b.median;
}

function summarize(rounds: CellRound[], concurrency: number[]): CellSummary {
  const lat = (tool: BenchTool) => ({
    p50: spread(rounds.map((r) => r.latency[tool].p50)),
    p95: spread(rounds.map((r) => r.latency[tool].p95)),
    p99: spread(rounds.map((r) => r.latency[tool].p99)),
  });
  return {
    coldCachedMs: spread(rounds.map((r) => r.coldCachedMs)),
    loadUncachedMs: spread(rounds.map((r) => r.loadUncachedMs)),
    coldUncachedMs: spread(rounds.map((r) => r.coldUncachedMs)),
    latency: { echo: lat('echo'), hash: lat('hash') },
    throughput: Object.fromEntries(concurrency.map((c) => [String(c), spread(rounds.map((r) => r.throughput[String(c)]))])),
    memoryBytes: spread(rounds.map((r) => r.memoryBytes)),
    ratio: {},
  };
}

/** Targets that can run here; an unavailable one is skipped with its reason, or an error when the user named it. */
export async function resolveTargets(
  config: Pick<BenchConfig, 'targets' | 'explicitTargets'>,
  implementations: Partial<Record<TargetName, Target>> = {},
): Promise<{ targets: Target[]; skipped: SkippedTarget[] }> {
  const targets: Target[] = [];
  const skipped: SkippedTarget[] = [];
  for (const name of config.targets) {
    const target = implementations[name] ?? ALL_TARGETS[name];
    const reason = await target.unavailable();
    if (reason === undefined) targets.push(target);
    else if (config.explicitTargets)
      throw new AirlockError('engine-unavailable', `--engines names ${name}, which cannot run here: ${reason}; install it, or leave ${name} out of --engines`);
    else skipped.push({ target: name, reason });
  }
  return { targets, skipped };
}

let running = false;

/**
 * Runs the benchmark. One run per process at a time (a second one is refused): it moves the cache root
 * while the wasmtime engine loads without caches, and two runs at once would measure each other anyway.
 */
export async function runBench(config: BenchConfig, options: RunOptions = {}): Promise<BenchReport> {
  if (running) throw new AirlockError('overloaded', 'a benchmark is already running in this process; run one at a time (each would measure the other)');
  running = true;
  try {
    return await runOnce(config, options);
  } finally {
    running = false;
  }
}

async function runOnce(config: BenchConfig, options: RunOptions): Promise<BenchReport> {
  const signal = options.signal ?? new AbortController().signal;
  const startedAt = new Date();
  const t0 = performance.now();
  const machine = describeMachine();
  const versions = await collectVersions();
  const { targets, skipped } = await resolveTargets(config, options.implementations);
  const plugins = config.plugins.map((n) => BENCH_PLUGINS[n]);

  // The shared (warm) cache: components built once before the first round.
  const setups = new Map<BenchPluginName, PluginSetup>();
  for (const plugin of plugins) {
    const grants = grantsOf(plugin.dir);
    setups.set(plugin.name, { plugin, grants, component: await componentFor(grants) });
  }
  const cells = targets.flatMap((target) => plugins.filter((p) => target.form === 'component' || p.docker).map((plugin) => ({ target, plugin })));
  const slots = interleave(cells, config.rounds);
  const total = cells.length + config.rounds * plugins.length + slots.length;
  options.onProgress?.({ type: 'start', total, skipped });
  let index = 0;
  const step = (round: number, plugin: BenchPluginName, s: BenchStep, target?: TargetName): void => {
    throwIfAborted(signal);
    options.onProgress?.({ type: 'step', index, total, round, rounds: config.rounds, plugin, step: s, ...(target === undefined ? {} : { target }) });
  };

  const perCell = new Map<string, CellRound[]>();
  const failures: CellFailure[] = [];
  const builds = new Map<string, number[]>();
  const instancesOf = (t: Target): number => Math.min(Math.max(...config.concurrency), t.budgets.maxInstances);

  // Every cache warm before the first round (transpiled glue, .cwasm, wasmtime's own cache, images): "cached" means cached.
  for (const { target, plugin } of cells) {
    step(0, plugin.name, 'prime', target.name);
    await coldStart(target, setups.get(plugin.name)!, signal);
    index++;
  }

  for (let round = 0; round < config.rounds; round++) {
    const roundBuilds = new Map<BenchPluginName, RoundBuild>();
    try {
      for (const plugin of plugins) {
        step(round, plugin.name, 'build');
        const wantImage = plugin.docker && targets.some((t) => t.form === 'source');
        const b = await buildFromScratch(plugin, setups.get(plugin.name)!, wantImage, signal);
        roundBuilds.set(plugin.name, b);
        for (const [stage, ms] of Object.entries(b.stages)) {
          const key = `${plugin.name}\0${stage}`;
          builds.set(key, [...(builds.get(key) ?? []), ms]);
        }
        index++;
      }
      for (const slot of slots.filter((s) => s.round === round)) {
        const { target, plugin } = slot.item;
        const setup = setups.get(plugin.name)!;
        const b = roundBuilds.get(plugin.name)!;
        const where = `${target.name}/${plugin.name}`;
        const budgets = target.budgets;
        try {
          step(round, plugin.name, 'cold', target.name);
          const coldCachedMs = await coldStart(target, setup, signal);

          step(round, plugin.name, 'cold-uncached', target.name);
          let loadUncachedMs: number | undefined;
          let buildMs: number | undefined;
          if (target.form === 'component' && b.stages.component !== undefined) {
            const cache = freshCacheRoot();
            try {
              loadUncachedMs = await coldStart(target, setup, signal, cache.root);
              buildMs = b.stages.component;
            } finally {
              cache.remove();
            }
          } else if (target.form === 'source' && b.freshDocker !== undefined && b.stages.image !== undefined) {
            loadUncachedMs = await coldStart(target, b.freshDocker.setup, signal);
            buildMs = b.stages.image;
          }
          const coldUncachedMs = loadUncachedMs === undefined || buildMs === undefined ? undefined : loadUncachedMs + buildMs;

          // Latency: back-to-back calls on one instance (a per-call target then waits for each fresh instance).
          const caller = new CheckedCaller(where);
          const lat = {} as Record<BenchTool, LatencyStats>;
          const single = await target.open(setup, { instances: 1, signal });
          try {
            for (let i = 0; i < Math.ceil(budgets.warmup * config.budgetScale); i++) await caller.call(single, 'echo', signal);
            step(round, plugin.name, 'latency', target.name);
            for (const tool of BENCH_TOOLS) lat[tool] = await latency(single, caller, tool, scaled(budgets.latency, config.budgetScale), signal);
          } finally {
            await single.close();
          }

          // Throughput and memory: a pool sized for the most callers (capped for pooled engines).
          const instances = instancesOf(target);
          const pool = await target.open(setup, { instances, signal });
          try {
            step(round, plugin.name, 'throughput', target.name);
            const thr: Record<string, number> = {};
            for (const c of config.concurrency) thr[String(c)] = await throughput(pool, caller, c, scaled(budgets.throughput, config.budgetScale), signal);
            let memoryBytes: number | undefined;
            if (pool.memoryPerInstance !== undefined) {
              step(round, plugin.name, 'memory', target.name);
              // Every instance warm: one call on each at once, then measure.
              await Promise.all(Array.from({ length: instances }, () => caller.call(pool, 'echo', signal)));
              memoryBytes = await pool.memoryPerInstance();
            }
            const key = `${target.name}\0${plugin.name}`;
            perCell.set(key, [
              ...(perCell.get(key) ?? []),
              { round, coldCachedMs, loadUncachedMs, coldUncachedMs, latency: lat, throughput: thr, memoryBytes },
            ]);
          } finally {
            await pool.close();
          }
        } catch (e) {
          // A wrong answer or Ctrl-C ends the run; anything else (a container killed from outside, say) costs
          // this cell its round, reported, and the run goes on.
          if (signal.aborted || !(e instanceof AirlockError) || e.code === 'aborted' || e.details.wrongResult === true) throw e;
          failures.push({ round, target: target.name, plugin: plugin.name, message: `${e.code}: ${e.message}` });
        }
        index++;
      }
    } finally {
      await Promise.all([...roundBuilds.values()].map(removeFresh));
    }
  }

  const results: CellResult[] = cells.map(({ target, plugin }) => {
    const rounds = perCell.get(`${target.name}\0${plugin.name}`) ?? [];
    return { target: target.name, plugin: plugin.name, instances: instancesOf(target), rounds, summary: summarize(rounds, config.concurrency) };
  });
  for (const cell of results) {
    const base = results.find((c) => c.target === 'in-thread' && c.plugin === cell.plugin);
    if (base === undefined) continue;
    const r = cell.summary.ratio;
    const echo = ratio(cell.summary.latency.echo.p50, base.summary.latency.echo.p50);
    const hash = ratio(cell.summary.latency.hash.p50, base.summary.latency.hash.p50);
    const thr = ratio(cell.summary.throughput['1'], base.summary.throughput['1']);
    if (echo !== undefined) r.echoP50 = echo;
    if (hash !== undefined) r.hashP50 = hash;
    if (thr !== undefined) r.throughput1 = thr;
  }
  const wallMs = performance.now() - t0;
  options.onProgress?.({ type: 'done', wallMs });
  return {
    schema: 'airlock-bench/1',
    command: config.command,
    startedAt: startedAt.toISOString(),
    wallMs,
    machine: { ...machine, loadAfter: loadavg() },
    versions,
    config: {
      ...config,
      hashSize: HASH_SIZE,
      inputs: INPUTS,
      budgets: Object.fromEntries(
        targets.map((t) => [
          t.name,
          { ...t.budgets, latency: scaled(t.budgets.latency, config.budgetScale), throughput: scaled(t.budgets.throughput, config.budgetScale) },
        ]),
      ),
    },
    targets: targets.map(({ name, label, kind, form }) => ({ name, label, kind, form })),
    skipped,
    failures,
    plugins: plugins.map((p) => ({ name: p.name, language: p.language })),
    cells: results,
    builds: [...builds.entries()].map(([key, values]) => {
      const [plugin, stage] = key.split('\0') as [BenchPluginName, BuildStage];
      return { plugin, stage, summary: spread(values) };
    }),
  };
}
