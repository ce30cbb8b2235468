/**
 * One benchmark run: every (target, plugin) cell, in interleaved rounds
 * (./schedule.ts), each round measuring cold starts (with and without
 * caches), warm latency of both tools, throughput at each concurrency
 * level and memory per live instance; plus, once per plugin and round, the
 * build steps from source with empty caches. Every result is checked
 * (./plugins.ts): a wrong answer stops the run.
 */
import { loadavg } from 'node:os';
import { AirlockError } from '../errors.ts';
import { componentFor } from '../provider/index.ts';
import { type CellRound, type CellStep, coldStart, measureCell } from './cell.ts';
import { collectVersions, describeMachine, type Machine, type Versions } from './machine.ts';
import { throwIfAborted } from './measure.ts';
import { BENCH_PLUGINS, HASH_SIZE, INPUTS, type BenchPlugin, type BenchPluginName, type BenchTool } from './plugins.ts';
import { type BuildStage, buildFromScratch, removeFresh, type RoundBuild } from './round-build.ts';
import { interleave } from './schedule.ts';
import { spread, type Spread } from './stats.ts';
import { addRatios, type CellSummary, summarize } from './summary.ts';
import { grantsOf, scaled, type PluginSetup, type Target, type TargetName } from './target.ts';
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

export type BenchStep = 'prime' | 'build' | CellStep;

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

export interface CellResult {
  target: TargetName;
  plugin: BenchPluginName;
  instances: number;
  rounds: CellRound[];
  summary: CellSummary;
}

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
  form: Target['form'];
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

/** A target and a plugin it runs: one row of every table. */
interface Cell {
  target: Target;
  plugin: BenchPlugin;
}

/** Announces steps (`step` also stops an aborted run) and counts finished ones (`next`). */
interface Progress {
  step(round: number, plugin: BenchPluginName, step: BenchStep, target?: TargetName): void;
  next(): void;
}

/** What every part of one run shares: its inputs and the figures gathered so far. */
interface Run {
  config: BenchConfig;
  signal: AbortSignal;
  targets: Target[];
  plugins: BenchPlugin[];
  /** Every plugin with its grants and component in the shared (warm) cache. */
  setups: Map<BenchPluginName, PluginSetup>;
  progress: Progress;
  /** Each cell's measured rounds, by `target\0plugin`. */
  perCell: Map<string, CellRound[]>;
  failures: CellFailure[];
  /** Build times from scratch, by `plugin\0stage`, in the order first measured. */
  builds: Map<string, number[]>;
}

async function runOnce(config: BenchConfig, options: RunOptions): Promise<BenchReport> {
  const signal = options.signal ?? new AbortController().signal;
  const startedAt = new Date();
  const t0 = performance.now();
  const machine = describeMachine();
  const versions = await collectVersions();
  const { targets, skipped } = await resolveTargets(config, options.implementations);
  const plugins = config.plugins.map((n) => BENCH_PLUGINS[n]);
  const setups = await prepareSetups(plugins);
  const cells = cellsOf(targets, plugins);
  const slots = interleave(cells, config.rounds);
  const total = cells.length + config.rounds * plugins.length + slots.length;
  options.onProgress?.({ type: 'start', total, skipped });
  const progress = progressOf(total, config.rounds, signal, options.onProgress);
  const run: Run = { config, signal, targets, plugins, setups, progress, perCell: new Map(), failures: [], builds: new Map() };

  await primeCaches(run, cells);
  for (let round = 0; round < config.rounds; round++) {
    await runRound(
      run,
      round,
      slots.filter((s) => s.round === round).map((s) => s.item),
    );
  }

  const wallMs = performance.now() - t0;
  options.onProgress?.({ type: 'done', wallMs });
  return assembleReport(run, cells, { startedAt, wallMs, machine, versions, skipped });
}

/** The shared (warm) cache: every plugin's grants, and its component built once before the first round. */
async function prepareSetups(plugins: BenchPlugin[]): Promise<Map<BenchPluginName, PluginSetup>> {
  const setups = new Map<BenchPluginName, PluginSetup>();
  for (const plugin of plugins) {
    const grants = grantsOf(plugin.dir);
    setups.set(plugin.name, { plugin, grants, component: await componentFor(grants) });
  }
  return setups;
}

/** Every (target, plugin) pair that can run: component targets run every plugin, source targets the Docker ones, a target with a plugin list those. */
function cellsOf(targets: Target[], plugins: BenchPlugin[]): Cell[] {
  return targets.flatMap((target) =>
    plugins
      .filter((p) => (target.plugins === undefined ? target.form !== 'source' || p.docker : target.plugins.includes(p.name)))
      .map((plugin) => ({ target, plugin })),
  );
}

function progressOf(total: number, rounds: number, signal: AbortSignal, onProgress: RunOptions['onProgress']): Progress {
  let index = 0;
  return {
    step(round, plugin, step, target) {
      throwIfAborted(signal);
      onProgress?.({ type: 'step', index, total, round, rounds, plugin, step, ...(target === undefined ? {} : { target }) });
    },
    next() {
      index++;
    },
  };
}

/** Instances of a cell's throughput pool: the most callers, capped by the target (pooled engines). */
function instancesOf(config: BenchConfig, target: Target): number {
  return Math.min(Math.max(...config.concurrency), target.budgets.maxInstances);
}

/** Every cache warm before the first round (transpiled glue, .cwasm, wasmtime's own cache, images): "cached" means cached. */
async function primeCaches(run: Run, cells: Cell[]): Promise<void> {
  for (const { target, plugin } of cells) {
    run.progress.step(0, plugin.name, 'prime', target.name);
    await coldStart(target, run.setups.get(plugin.name)!, run.signal);
    run.progress.next();
  }
}

/** One round: every plugin built from scratch, then each cell in this round's order; the round's fresh images removed after. */
async function runRound(run: Run, round: number, cells: Cell[]): Promise<void> {
  const roundBuilds = new Map<BenchPluginName, RoundBuild>();
  try {
    for (const plugin of run.plugins) roundBuilds.set(plugin.name, await buildRound(run, round, plugin));
    for (const cell of cells) {
      await runCell(run, round, cell, roundBuilds.get(cell.plugin.name)!);
      run.progress.next();
    }
  } finally {
    await Promise.all([...roundBuilds.values()].map(removeFresh));
  }
}

/** This round's build of `plugin` from scratch (an image too when a source target runs), its times kept for the report. */
async function buildRound(run: Run, round: number, plugin: BenchPlugin): Promise<RoundBuild> {
  run.progress.step(round, plugin.name, 'build');
  const wantImage = plugin.docker && run.targets.some((t) => t.form === 'source');
  const b = await buildFromScratch(plugin, run.setups.get(plugin.name)!, wantImage, run.signal);
  for (const [stage, ms] of Object.entries(b.stages)) {
    const key = `${plugin.name}\0${stage}`;
    run.builds.set(key, [...(run.builds.get(key) ?? []), ms]);
  }
  run.progress.next();
  return b;
}

/** Measures one cell in one round; a failure that is not the run's end costs the cell this round only, and is reported. */
async function runCell(run: Run, round: number, { target, plugin }: Cell, build: RoundBuild): Promise<void> {
  const key = `${target.name}\0${plugin.name}`;
  try {
    await measureCell({
      round,
      target,
      setup: run.setups.get(plugin.name)!,
      build,
      instances: instancesOf(run.config, target),
      concurrency: run.config.concurrency,
      budgetScale: run.config.budgetScale,
      signal: run.signal,
      step: (step) => run.progress.step(round, plugin.name, step, target.name),
      record: (figures) => run.perCell.set(key, [...(run.perCell.get(key) ?? []), figures]),
    });
  } catch (e) {
    // A wrong answer or Ctrl-C ends the run; anything else (a container killed from outside, say) costs
    // this cell its round, reported, and the run goes on.
    if (run.signal.aborted || !(e instanceof AirlockError) || e.code === 'aborted' || e.details.wrongResult === true) throw e;
    run.failures.push({ round, target: target.name, plugin: plugin.name, message: `${e.code}: ${e.message}` });
  }
}

/** Every cell's rounds and their summary, with its ratios to the in-thread baseline of the same plugin. */
function cellResults(run: Run, cells: Cell[]): CellResult[] {
  const results: CellResult[] = cells.map(({ target, plugin }) => {
    const rounds = run.perCell.get(`${target.name}\0${plugin.name}`) ?? [];
    return { target: target.name, plugin: plugin.name, instances: instancesOf(run.config, target), rounds, summary: summarize(rounds, run.config.concurrency) };
  });
  for (const cell of results) {
    const base = results.find((c) => c.target === 'in-thread' && c.plugin === cell.plugin);
    if (base !== undefined) addRatios(cell.summary, base.summary);
  }
  return results;
}

function buildFigures(builds: Map<string, number[]>): BuildFigure[] {
  return [...builds.entries()].map(([key, values]) => {
    const [plugin, stage] = key.split('\0') as [BenchPluginName, BuildStage];
    return { plugin, stage, summary: spread(values) };
  });
}

/** Each target's budgets as this run scaled them. */
function scaledBudgets(targets: Target[], scale: number): Record<string, unknown> {
  return Object.fromEntries(
    targets.map((t) => [t.name, { ...t.budgets, latency: scaled(t.budgets.latency, scale), throughput: scaled(t.budgets.throughput, scale) }]),
  );
}

interface RunFacts {
  startedAt: Date;
  wallMs: number;
  machine: Machine;
  versions: Versions;
  skipped: SkippedTarget[];
}

function assembleReport(run: Run, cells: Cell[], facts: RunFacts): BenchReport {
  const { config, targets, plugins } = run;
  return {
    schema: 'airlock-bench/1',
    command: config.command,
    startedAt: facts.startedAt.toISOString(),
    wallMs: facts.wallMs,
    machine: { ...facts.machine, loadAfter: loadavg() },
    versions: facts.versions,
    config: { ...config, hashSize: HASH_SIZE, inputs: INPUTS, budgets: scaledBudgets(targets, config.budgetScale) },
    targets: targets.map(({ name, label, kind, form }) => ({ name, label, kind, form })),
    skipped: facts.skipped,
    failures: run.failures,
    plugins: plugins.map((p) => ({ name: p.name, language: p.language })),
    cells: cellResults(run, cells),
    builds: buildFigures(run.builds),
  };
}
