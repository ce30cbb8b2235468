import test from 'ava';
import { latencyStats, median, percentile, spread } from '../../src/bench/index.ts';

test('percentile is the nearest rank of the sorted samples, whatever their order', (t) => {
  const samples = [9, 1, 8, 2, 7, 3, 6, 4, 5, 10];
  t.is(percentile(samples, 50), 5);
  t.is(percentile(samples, 95), 10);
  t.is(percentile(samples, 10), 1);
  t.is(percentile(samples, 0), 1);
  t.is(percentile(samples, 100), 10);
  t.true(Number.isNaN(percentile([], 50)));
});

test('latencyStats reports p50, p95 and p99 and the sample count', (t) => {
  const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
  t.deepEqual(latencyStats(samples), { n: 100, p50: 50, p95: 95, p99: 99 });
});

test('median takes the middle value, or the mean of the middle two', (t) => {
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 3, 2]), 2.5);
  t.true(Number.isNaN(median([])));
});

test('spread gives median and min–max over rounds, ignoring rounds without the figure', (t) => {
  t.deepEqual(spread([5, undefined, 1, 3]), { median: 3, min: 1, max: 5, rounds: [5, 1, 3] });
  t.is(spread([undefined, Number.NaN]), undefined);
});
