/**
 * Serial: one benchmark per process at a time (runBench refuses a second).
 *
 * The real command on a tiny configuration (in-thread and worker, bench-c,
 * one round, --quick budgets): the three outputs exist and agree. No timing
 * assertions: figures only have to be there and be positive.
 */
import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchMarkdown, inThreadTarget, runBench, type BenchReport, type Session, type Target, type TargetName } from '../../src/bench/index.ts';
import { AirlockError } from '../../src/errors.ts';
import { cli } from '../helpers/cli.ts';
import { parseSvg } from './xml.ts';

test.serial('airlock bench writes bench.json, bench.md and bench.svg that agree with each other', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'airlock-bench-test-'));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  const r = await cli(['bench', '--engines', 'in-thread,worker', '--plugins', 'bench-c', '--rounds', '1', '--concurrency', '1,2', '--quick', '--out', out]);
  t.is(r.code, 0, r.stderr);
  const report = JSON.parse(await readFile(join(out, 'bench.json'), 'utf8')) as BenchReport;
  t.deepEqual(
    report.cells.map((c) => [c.target, c.plugin]),
    [
      ['in-thread', 'bench-c'],
      ['worker', 'bench-c'],
    ],
  );
  t.deepEqual(report.skipped, []);
  t.deepEqual(report.failures, []);
  t.is(report.machine.cores > 0, true);
  t.truthy(report.versions.node);
  t.truthy(report.versions['preview2-shim']);
  for (const c of report.cells) {
    t.is(c.rounds.length, 1);
    t.true(c.summary.latency.echo.p50!.median > 0 && c.summary.latency.hash.p50!.median > 0);
    t.true(c.summary.throughput['2']!.median > 0);
    t.true(c.summary.coldCachedMs!.median > 0 && c.summary.coldUncachedMs!.median > c.summary.loadUncachedMs!.median);
  }
  t.is(report.cells[0]!.summary.ratio.echoP50, 1);
  t.true(report.builds.some((b) => b.plugin === 'bench-c' && b.stage === 'component'));
  const md = await readFile(join(out, 'bench.md'), 'utf8');
  t.is(md, benchMarkdown(report));
  t.is(r.stdout, md);
  const svg = parseSvg(await readFile(join(out, 'bench.svg'), 'utf8'));
  t.deepEqual(
    svg.legend,
    report.targets.map((x) => x.label),
  );
  t.regex(r.stderr, /round 1\/1 worker bench-c: latency/);
});

test.serial('an aborted run stops with an aborted error', async (t) => {
  const stop = new AbortController();
  const run = runBench(
    { targets: ['worker'], explicitTargets: true, plugins: ['bench-c'], rounds: 2, concurrency: [1], budgetScale: 0.02, command: 'test' },
    { signal: stop.signal, onProgress: (e) => e.type === 'step' && e.step === 'latency' && stop.abort() },
  );
  await t.throwsAsync(run, { code: 'aborted' } as never);
});

/** The in-thread target under another name, with its calls changed by `around`. */
function wrapped(name: 'worker', around: (call: Session['call'], opened: number) => Session['call']): Target {
  let opened = 0;
  return {
    ...inThreadTarget,
    name,
    label: `wrapped ${name}`,
    async open(setup, options) {
      const session = await inThreadTarget.open(setup, options);
      return { ...session, call: around(session.call.bind(session), opened++) };
    },
  };
}

const tiny = {
  targets: ['in-thread', 'worker'] as TargetName[],
  explicitTargets: true,
  plugins: ['bench-c' as const],
  rounds: 2,
  concurrency: [1],
  budgetScale: 0.02,
  command: 'test',
};

test.serial('a measure that fails costs its cell that round only: the failure is reported and the other rounds count', async (t) => {
  // Sessions opened: 0 warms the caches, then per round: cold, cold without caches, latency, throughput; 7 is round 2's latency session.
  const failing = wrapped('worker', (call, opened) =>
    opened === 7
      ? async () => {
          throw new AirlockError('crash', 'killed from outside');
        }
      : call,
  );
  const report = await runBench(tiny, { implementations: { worker: failing } });
  t.deepEqual(report.failures, [{ round: 1, target: 'worker', plugin: 'bench-c', message: 'crash: killed from outside' }]);
  const worker = report.cells.find((c) => c.target === 'worker')!;
  t.deepEqual(
    worker.rounds.map((r) => r.round),
    [0],
  );
  t.is(report.cells.find((c) => c.target === 'in-thread')!.rounds.length, 2);
});

test.serial('a wrong result is an error that ends the run, never a data point', async (t) => {
  const wrong = wrapped('worker', (call) => async (tool, input, signal) => (tool === 'hash' ? '12345' : call(tool, input, signal)));
  await t.throwsAsync(runBench(tiny, { implementations: { worker: wrong } }), {
    message: /worker\/bench-c: hash returned 12345, expected \d+: the engines disagree/,
  });
});

test.serial('a second benchmark in the same process is refused while one runs', async (t) => {
  const stop = new AbortController();
  const first = runBench(tiny, { signal: stop.signal });
  await t.throwsAsync(runBench(tiny), { code: 'overloaded', message: /already running in this process/ } as never);
  stop.abort();
  await t.throwsAsync(first, { code: 'aborted' } as never);
});
