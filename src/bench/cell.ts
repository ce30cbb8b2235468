/**
 * One cell (a target and a plugin) in one round: cold start with and
 * without caches, warm latency of both tools on one instance, throughput at
 * each concurrency level and memory per live instance on a pool. Every
 * result is checked (./plugins.ts): a wrong answer throws.
 */
import { freshCacheRoot } from './cache.ts';
import { sampleLatency, throwIfAborted } from './measure.ts';
import { BENCH_TOOLS, checkResult, INPUTS, type BenchTool } from './plugins.ts';
import type { RoundBuild } from './round-build.ts';
import { latencyStats, type LatencyStats } from './stats.ts';
import { scaled, type Budget, type OpenOptions, type PluginSetup, type Session, type Target } from './target.ts';

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

export type CellStep = 'cold' | 'cold-uncached' | 'latency' | 'throughput' | 'memory';

/** What measuring one cell in one round needs from the run. */
export interface CellRun {
  round: number;
  target: Target;
  setup: PluginSetup;
  /** This round's builds of the plugin from scratch. */
  build: RoundBuild;
  /** Live instances of the throughput and memory pool. */
  instances: number;
  concurrency: number[];
  budgetScale: number;
  signal: AbortSignal;
  /** Announces the step about to run (and throws when the run was aborted). */
  step(step: CellStep): void;
  /** Keeps the round's figures; called once they are all measured, before the pool closes (a failed close does not lose them). */
  record(figures: CellRound): void;
}

const MIN_SAMPLES = 3;

export async function measureCell(c: CellRun): Promise<void> {
  c.step('cold');
  const coldCachedMs = await coldStart(c.target, c.setup, c.signal);
  c.step('cold-uncached');
  const uncached = await coldUncached(c);
  const caller = new CheckedCaller(`${c.target.name}/${c.setup.plugin.name}`);
  const latency = await warmLatency(c, caller);
  // Throughput and memory: a pool sized for the most callers (capped for pooled engines).
  await withSession(c.target, c.setup, { instances: c.instances, signal: c.signal, memory: true }, async (pool) => {
    const { throughput, memoryBytes } = await poolFigures(c, caller, pool);
    c.record({ round: c.round, coldCachedMs, ...uncached, latency, throughput, memoryBytes });
  });
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

/** Opens a session, runs `use` on it and closes it, whatever happens. */
async function withSession<T>(target: Target, setup: PluginSetup, options: OpenOptions, use: (session: Session) => Promise<T>): Promise<T> {
  const session = await target.open(setup, options);
  try {
    return await use(session);
  } finally {
    await session.close();
  }
}

/** Milliseconds from opening a one-instance session to its first checked result (`cacheRoot`: an empty cache to load into). */
export async function coldStart(target: Target, setup: PluginSetup, signal: AbortSignal, cacheRoot?: string): Promise<number> {
  const caller = new CheckedCaller(`${target.name}/${setup.plugin.name} (cold start)`);
  const t0 = performance.now();
  return withSession(target, setup, { instances: 1, signal, ...(cacheRoot === undefined ? {} : { cacheRoot }) }, async (session) => {
    await caller.call(session, 'echo', signal);
    return performance.now() - t0;
  });
}

type Uncached = Pick<CellRound, 'loadUncachedMs' | 'coldUncachedMs'>;

/** A cold start with nothing cached: into an empty cache (component targets) or on this round's fresh image (source targets), plus its build. */
async function coldUncached({ target, setup, build, signal }: CellRun): Promise<Uncached> {
  const withBuild = (loadMs: number, buildMs: number): Uncached => ({ loadUncachedMs: loadMs, coldUncachedMs: loadMs + buildMs });
  if (target.form === 'component' && build.stages.component !== undefined) {
    const cache = freshCacheRoot();
    try {
      return withBuild(await coldStart(target, setup, signal, cache.root), build.stages.component);
    } finally {
      cache.remove();
    }
  }
  if (target.form === 'source' && build.freshDocker !== undefined && build.stages.image !== undefined)
    return withBuild(await coldStart(target, build.freshDocker.setup, signal), build.stages.image);
  return { loadUncachedMs: undefined, coldUncachedMs: undefined };
}

/** Latency of each tool: back-to-back calls on one warmed instance (a per-call target then waits for each fresh instance). */
async function warmLatency(c: CellRun, caller: CheckedCaller): Promise<Record<BenchTool, LatencyStats>> {
  const { budgets } = c.target;
  return withSession(c.target, c.setup, { instances: 1, signal: c.signal }, async (single) => {
    for (let i = 0; i < Math.ceil(budgets.warmup * c.budgetScale); i++) await caller.call(single, 'echo', c.signal);
    c.step('latency');
    const lat = {} as Record<BenchTool, LatencyStats>;
    for (const tool of BENCH_TOOLS) lat[tool] = await latency(single, caller, tool, scaled(budgets.latency, c.budgetScale), c.signal);
    return lat;
  });
}

async function latency(session: Session, caller: CheckedCaller, tool: BenchTool, budget: Budget, signal: AbortSignal): Promise<LatencyStats> {
  return latencyStats(await sampleLatency(() => caller.call(session, tool, signal), budget, { min: MIN_SAMPLES, signal }));
}

/** Throughput at each concurrency level, then memory per instance with every instance warm (targets that keep instances). */
async function poolFigures(c: CellRun, caller: CheckedCaller, pool: Session): Promise<Pick<CellRound, 'throughput' | 'memoryBytes'>> {
  c.step('throughput');
  const thr: Record<string, number> = {};
  for (const lanes of c.concurrency) thr[String(lanes)] = await throughput(pool, caller, lanes, scaled(c.target.budgets.throughput, c.budgetScale), c.signal);
  if (pool.memoryPerInstance === undefined) return { throughput: thr, memoryBytes: undefined };
  c.step('memory');
  // Every instance warm: one call on each at once, then measure.
  await Promise.all(Array.from({ length: c.instances }, () => caller.call(pool, 'echo', c.signal)));
  return { throughput: thr, memoryBytes: await pool.memoryPerInstance() };
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
