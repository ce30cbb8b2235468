/**
 * `airlock bench` options as the library takes them, from command-line
 * values: every bad value is a usage error naming the flag and the fix.
 */
import { AirlockError } from '../errors.ts';
import { BENCH_PLUGIN_NAMES, type BenchPluginName } from './plugins.ts';
import type { BenchConfig } from './run.ts';
import { TARGET_NAMES, type TargetName } from './target.ts';

export interface BenchFlags {
  engines?: string | undefined;
  plugins?: string | undefined;
  rounds?: string | undefined;
  concurrency?: string | undefined;
  quick?: boolean | undefined;
}

/** Callers at once for the throughput measures. */
export const DEFAULT_CONCURRENCY = [1, 2, 8, 32] as const;

/** Budgets of a smoke run (`--quick`): a few calls per measure, for checking the harness, not for figures. */
export const QUICK_SCALE = 0.02;

function list<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new AirlockError('invalid-input', `${flag} is empty; name one or more of: ${allowed.join(', ')}`);
  for (const n of names) {
    if (!(allowed as readonly string[]).includes(n))
      throw new AirlockError('invalid-input', `${flag}: unknown name "${n}"; use a comma-separated list of: ${allowed.join(', ')}`);
  }
  return [...new Set(names)] as T[];
}

function positiveInt(flag: string, value: string, max: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > max)
    throw new AirlockError('invalid-input', `${flag} must be a whole number from 1 to ${max}, got "${value}" (e.g. ${flag} 3)`);
  return Number(value);
}

export function benchConfig(flags: BenchFlags, command: string): BenchConfig {
  const targets = flags.engines === undefined ? [...TARGET_NAMES] : list<TargetName>('--engines', flags.engines, TARGET_NAMES);
  const plugins = flags.plugins === undefined ? [...BENCH_PLUGIN_NAMES] : list<BenchPluginName>('--plugins', flags.plugins, BENCH_PLUGIN_NAMES);
  const rounds = flags.rounds === undefined ? 3 : positiveInt('--rounds', flags.rounds, 100);
  const concurrency =
    flags.concurrency === undefined
      ? [...DEFAULT_CONCURRENCY]
      : [...new Set(flags.concurrency.split(',').map((c) => positiveInt('--concurrency', c, 256)))].sort((a, b) => a - b);
  return { targets, explicitTargets: flags.engines !== undefined, plugins, rounds, concurrency, budgetScale: flags.quick === true ? QUICK_SCALE : 1, command };
}
