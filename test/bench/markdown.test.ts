import test from 'ava';
import { benchMarkdown } from '../../src/bench/index.ts';
import { sampleReport } from './report.ts';

function tableRows(md: string, heading: string): string[][] {
  const start = md.indexOf(heading);
  const lines = md.slice(start).split('\n').slice(2);
  const rows: string[][] = [];
  for (const line of lines) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );
  }
  return rows.slice(2); // header and alignment rows
}

test('the latency table has one row per engine and plugin, with medians, ranges and the ratio to in-thread', (t) => {
  const report = sampleReport();
  const rows = tableRows(benchMarkdown(report), '**Warm latency**');
  t.is(rows.length, report.cells.length);
  const worker = rows.find((r) => r[0] === 'worker engine' && r[1] === 'bench-js')!;
  // echo p50 over rounds 0.3, 0.33, 0.36 ms -> median 330 µs, range 300–360.
  t.is(worker[2], '330 µs (300–360)');
  t.is(worker[5], '60×');
});

test('the throughput table has a column per concurrency level', (t) => {
  const report = sampleReport();
  const md = benchMarkdown(report);
  t.true(md.includes('| engine | plugin | instances | 1 at once | 4 at once | × in-thread (1) |'));
  t.is(tableRows(md, '**Throughput**').length, report.cells.length);
});

test('a single round shows the figure without a range', (t) => {
  const rows = tableRows(benchMarkdown(sampleReport(1)), '**Warm latency**');
  t.is(rows.find((r) => r[0] === 'wasmtime engine' && r[1] === 'bench-c')![2], '20.0 ms');
});

test('the Markdown names the machine, the command, the versions, every skipped engine with its reason and every failed measure', (t) => {
  const md = benchMarkdown(sampleReport());
  t.true(md.includes('Test CPU <1>, 2 cores, 8.0 GiB, TestOS'));
  t.true(md.includes('`airlock bench --engines in-thread,worker,wasmtime`'));
  t.true(md.includes('Node 24.0.0'));
  t.true(md.includes('Skipped docker-warm: the Docker daemon does not answer.'));
  t.true(md.includes('**Failed**: round 2, wasmtime on bench-js (no figures from it): crash: wasmtime exited with 137'));
  t.true(md.includes('| bench-js (JavaScript) | 5.10 s (5.00–5.20) | — |'));
});
