import test from 'ava';
import { benchChart, chartSvg } from '../../src/bench/index.ts';
import { sampleReport } from './report.ts';
import { parseSvg } from './xml.ts';

test('the chart is well-formed SVG with one legend series per engine and bars of every engine in each panel', (t) => {
  const report = sampleReport();
  const svg = parseSvg(benchChart(report));
  t.is(svg.root, 'svg');
  const labels = report.targets.map((x) => x.label);
  t.deepEqual(svg.legend, labels);
  // echo latency, hash latency, then one throughput panel per plugin.
  t.is(svg.panels.length, 2 + report.plugins.length);
  for (const bars of svg.panels) t.deepEqual([...new Set(bars)], labels);
  // Latency panels: a bar per engine and plugin.
  t.is(svg.panels[0]!.length, labels.length * report.plugins.length);
});

test('chart text is escaped, so names with markup characters keep the SVG well-formed', (t) => {
  const svg = parseSvg(
    chartSvg('a <b> & "c"', [
      { title: 'x < y', unit: 'rate', groups: ['g&1'], series: [{ name: '<engine>', values: [{ median: 10, min: 5, max: 20, rounds: [5, 10, 20] }] }] },
    ]),
  );
  t.deepEqual(svg.legend, ['<engine>']);
  t.deepEqual(svg.panels, [['<engine>']]);
});

test('a series without a value in a group has no bar there', (t) => {
  const svg = parseSvg(
    chartSvg('t', [
      {
        title: 'p',
        unit: 'duration',
        groups: ['g1', 'g2'],
        series: [
          { name: 'a', values: [{ median: 1, min: 1, max: 1, rounds: [1] }, undefined] },
          {
            name: 'b',
            values: [
              { median: 2, min: 2, max: 2, rounds: [2] },
              { median: 3, min: 3, max: 3, rounds: [3] },
            ],
          },
        ],
      },
    ]),
  );
  t.deepEqual(svg.panels, [['a', 'b', 'b']]);
});
