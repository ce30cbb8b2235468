/**
 * The real command on a tiny configuration (in-thread and worker, bench-c,
 * one round, --quick budgets): the three outputs exist and agree. No timing
 * assertions: figures only have to be there and be positive.
 */
import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchMarkdown, runBench, type BenchReport } from '../../src/bench/index.ts';
import { cli } from '../helpers/cli.ts';
import { parseSvg } from './xml.ts';

test('airlock bench writes bench.json, bench.md and bench.svg that agree with each other', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'airlock-bench-test-'));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  const r = await cli(['bench', '--engines', 'in-thread,worker', '--plugins', 'bench-c', '--rounds', '1', '--concurrency', '1,2', '--quick', '--out', out]);
  t.is(r.code, 0, r.stderr);
  const report = JSON.parse(await readFile(join(out, 'bench.json'), 'utf8')) as BenchReport;
  t.deepEqual(report.cells.map((c) => [c.target, c.plugin]), [['in-thread', 'bench-c'], ['worker', 'bench-c']]);
  t.deepEqual(report.skipped, []);
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
  t.deepEqual(svg.legend, report.targets.map((x) => x.label));
  t.regex(r.stderr, /round 1\/1 worker bench-c: latency/);
});

test('an aborted run stops with an aborted error', async (t) => {
  const stop = new AbortController();
  const run = runBench(
    { targets: ['worker'], explicitTargets: true, plugins: ['bench-c'], rounds: 2, concurrency: [1], budgetScale: 0.02, command: 'test' },
    { signal: stop.signal, onProgress: (e) => e.type === 'step' && e.step === 'latency' && stop.abort() },
  );
  await t.throwsAsync(run, { code: 'aborted' } as never);
});
