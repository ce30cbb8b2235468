/**
 * The Extism baseline (src/bench/targets/extism.ts) in the harness: both
 * targets run bench-c's own code over Extism's kernel ABI, answer what
 * bench-c answers, and each produces a row with its figures; no timing
 * claims. Needs the dev dependency @extism/extism: skipped loudly without
 * it, failed in CI.
 */
import test from 'ava';
import { BENCH_PLUGINS, benchMarkdown, checkResult, INPUTS, runBench } from '../../src/bench/index.ts';
import { grantsOf } from '../../src/bench/target.ts';
import { extismMainTarget, extismWorkerTarget } from '../../src/bench/targets/extism.ts';
import { requireExternal } from '../helpers/require.ts';

const why = await extismWorkerTarget.unavailable();
const run = requireExternal('extism', why === undefined, why ?? '') ? test.serial : test.serial.skip;

run('both Extism targets answer what bench-c answers, in the main thread and in a worker', async (t) => {
  const setup = { plugin: BENCH_PLUGINS['bench-c'], grants: grantsOf(BENCH_PLUGINS['bench-c'].dir), component: undefined };
  const signal = new AbortController().signal;
  for (const target of [extismMainTarget, extismWorkerTarget]) {
    const s = await target.open(setup, { instances: 2, signal, memory: true });
    try {
      const answers = await Promise.all([s.call('echo', INPUTS.echo, signal), s.call('hash', INPUTS.hash, signal), s.call('echo', INPUTS.echo, signal)]);
      t.notThrows(() => checkResult(target.name, 'echo', answers[0]!));
      t.notThrows(() => checkResult(target.name, 'hash', answers[1]!));
      t.notThrows(() => checkResult(target.name, 'echo', answers[2]!));
      t.true((await s.memoryPerInstance!()) !== undefined);
    } finally {
      await s.close();
    }
  }
});

run('the harness runs each Extism target on bench-c only and gives each a row', async (t) => {
  const report = await runBench({
    targets: ['in-thread', 'extism', 'extism-worker'],
    explicitTargets: true,
    plugins: ['bench-c'],
    rounds: 1,
    concurrency: [1, 2],
    budgetScale: 0.02,
    command: 'test',
  });
  t.deepEqual(report.failures, []);
  t.deepEqual(
    report.cells.map((c) => [c.target, c.plugin]),
    [
      ['in-thread', 'bench-c'],
      ['extism', 'bench-c'],
      ['extism-worker', 'bench-c'],
    ],
  );
  for (const c of report.cells.slice(1)) {
    t.true(c.summary.latency.echo.p50!.median > 0 && c.summary.latency.hash.p50!.median > 0, c.target);
    t.true(c.summary.throughput['2']!.median > 0, c.target);
    t.true(c.summary.coldCachedMs!.median > 0, c.target);
    t.is(c.summary.coldUncachedMs, undefined, `${c.target} keeps no cache, so it has no uncached figure`);
    t.not(c.rounds[0]!.memoryBytes, undefined, c.target);
  }
  const md = benchMarkdown(report);
  t.regex(md, /\| Extism JS SDK 1\.0\.3, main thread \(same C code\) \| bench-c \|/);
  t.regex(md, /\| Extism JS SDK 1\.0\.3, worker thread \(same C code\) \| bench-c \|/);
});
