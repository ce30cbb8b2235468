import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ProgressEvent } from '../../bench/index.ts';
import { benchConfig } from '../../bench/options.ts';
import { BENCH_PLUGIN_NAMES } from '../../bench/plugins.ts';
import { TARGET_NAMES } from '../../bench/target.ts';
import { AirlockError } from '../../errors.ts';
import { displayPath, UsageError, type CliIO, type Command } from '../io.ts';

export const benchCommand: Command = {
  name: 'bench',
  summary: 'Measure every engine against the others and against running plugins without Airlock',
  help: `Usage: airlock bench [--engines a,b] [--plugins a,b] [--rounds N] [--out dir]

Runs the same plugins (fixtures/plugins/bench-{c,js,py}: an echo tool and a
CPU-bound hash tool) on every engine and on the baselines a user would have
without Airlock, in interleaved rounds on this machine, and writes
bench.json (every figure, the machine and versions), bench.md (tables) and
bench.svg (chart). Measures: cold start with and without caches, warm
latency p50/p95/p99, throughput with 1, 2, 8 and 32 callers, memory per
live instance, build times. Figures are medians over rounds with min–max.

Engines and baselines (--engines; default: all, unavailable ones skipped):
  in-thread        the component called in this thread, no isolation (baseline)
  worker           the worker engine (jco-transpiled, worker threads)
  wasmtime         the wasmtime engine (a process per call on a .cwasm)
  wasmtime-run     \`wasmtime run --invoke\` per call, no Airlock (baseline)
  docker-warm      the Docker engine, warm containers
  docker-per-call  the Docker engine, isolation: per-call
  docker-run       \`docker run --rm\` per call, same hardening, no Airlock (baseline)
  extism           Extism's JS SDK, main thread, bench-c's code over its kernel ABI (baseline)
  extism-worker    the same in Extism's worker thread (baseline; both need
                   the dev dependency @extism/extism)
Naming an engine that cannot run here is an error.

Options:
  --engines <list>      comma-separated, from the list above
  --plugins <list>      comma-separated: ${BENCH_PLUGIN_NAMES.join(', ')} (default: all)
  --rounds <N>          interleaved rounds (default 3)
  --concurrency <list>  callers at once for throughput (default 1,2,8,32)
  --out <dir>           where the outputs go (default ./airlock-bench)
  --quick               a few calls per measure: checks the harness, not figures for anyone
  -h, --help            show this help

Progress goes to stderr; the Markdown tables to stdout. A wrong result
from any engine stops the run; a failed measure (a container killed from
outside, say) is reported, the other measures go on, and the exit status
is 1. Ctrl-C stops cleanly (workers and containers are closed). Docker
needs its base images: without a registry, set AIRLOCK_NODE_IMAGE and
AIRLOCK_PYTHON_IMAGE.`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        engines: { type: 'string' },
        plugins: { type: 'string' },
        rounds: { type: 'string' },
        concurrency: { type: 'string' },
        out: { type: 'string' },
        quick: { type: 'boolean' },
      },
    });
    if (positionals.length > 0)
      throw new UsageError(`bench takes no arguments, got "${positionals[0]}"; choose what to run with --engines (${TARGET_NAMES.join(',')}) and --plugins`);
    let config;
    try {
      config = benchConfig(values, ['airlock bench', ...argv].join(' '));
    } catch (e) {
      if (e instanceof AirlockError && e.code === 'invalid-input') throw new UsageError(e.message);
      throw e;
    }
    const outDir = resolve(io.cwd, values.out ?? 'airlock-bench');
    const stop = new AbortController();
    const onSigint = (): void => {
      io.stderr('\nstopping: closing workers and containers…\n');
      stop.abort();
    };
    process.once('SIGINT', onSigint);
    const progress = progressDisplay(io);
    try {
      // Loaded on use: the engines and Docker client are not needed for the other commands' start-up.
      const { benchMarkdown, runBench, writeBenchOutputs } = await import('../../bench/index.ts');
      const report = await runBench(config, { signal: stop.signal, onProgress: progress });
      const out = await writeBenchOutputs(report, outDir);
      io.stdout(benchMarkdown(report));
      io.stderr(`wrote ${displayPath(io, out.json)}, ${displayPath(io, out.markdown)}, ${displayPath(io, out.svg)}\n`);
      for (const f of report.failures) io.stderr(`failed: round ${f.round + 1}, ${f.target} on ${f.plugin}: ${f.message}\n`);
      return report.failures.length === 0 ? 0 : 1;
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  },
};

/** One line per step on a pipe; one status line rewritten in place on a terminal. */
function progressDisplay(io: CliIO): (e: ProgressEvent) => void {
  const status = io.stderrIsTTY === true ? io.status : undefined;
  const started = performance.now();
  const elapsed = (): string => `${Math.round((performance.now() - started) / 1000)} s`;
  return (e) => {
    if (e.type === 'start') {
      for (const s of e.skipped) io.stderr(`skipping ${s.target}: ${s.reason}\n`);
      return;
    }
    if (e.type === 'done') {
      status?.('');
      io.stderr(`done in ${elapsed()}\n`);
      return;
    }
    const what = e.step === 'prime' ? 'warming caches' : e.step === 'build' ? 'build from source, no caches' : e.step;
    const line = `[${String(e.index + 1).padStart(String(e.total).length)}/${e.total}] ${e.step === 'prime' ? '' : `round ${e.round + 1}/${e.rounds} `}${e.target === undefined ? '' : `${e.target} `}${e.plugin}: ${what} (${elapsed()})`;
    if (status === undefined) io.stderr(`${line}\n`);
    else status(line);
  };
}
