export { benchConfig, DEFAULT_CONCURRENCY, QUICK_SCALE, type BenchFlags } from './options.ts';
export {
  resolveTargets,
  runBench,
  type BenchConfig,
  type BenchReport,
  type BenchStep,
  type BuildFigure,
  type CellFailure,
  type CellResult,
  type ProgressEvent,
  type RunOptions,
  type SkippedTarget,
  type TargetInfo,
} from './run.ts';
export type { CellRound } from './cell.ts';
export type { CellSummary } from './summary.ts';
export type { BuildStage } from './round-build.ts';
export { benchMarkdown } from './markdown.ts';
export { benchChart, chartSvg, type ChartPanel, type ChartSeries } from './svg.ts';
export { writeBenchOutputs, type BenchOutputs } from './write.ts';
export { interleave, type Slot } from './schedule.ts';
export { sampleLatency } from './measure.ts';
export { latencyStats, median, percentile, spread, type LatencyStats, type Spread } from './stats.ts';
export {
  BENCH_PLUGIN_NAMES,
  BENCH_PLUGINS,
  BENCH_TOOLS,
  checkResult,
  fnv1a,
  HASH_SIZE,
  INPUTS,
  type BenchPlugin,
  type BenchPluginName,
  type BenchTool,
} from './plugins.ts';
export {
  TARGET_NAMES,
  withInstances,
  type Budget,
  type OpenOptions,
  type PluginSetup,
  type Session,
  type Target,
  type TargetBudgets,
  type TargetName,
} from './target.ts';
export { ALL_TARGETS, dockerRunArgs, inThreadTarget, loadInThread, runProcess, type InThreadPlugin } from './targets/index.ts';
export { collectVersions, describeMachine, type Machine, type Versions } from './machine.ts';
export { freshCacheRoot, withCacheRoot } from './cache.ts';
export { heapBytes, residentBytes } from './memory.ts';
