/**
 * bench.svg: grouped bar charts on a log scale (engines differ by 1000× and
 * more), one colour per engine, a whisker for each bar's min–max over
 * rounds. Hand-written: a grouped bar chart is a few rectangles and
 * lines, and the chart libraries that render SVG without a browser (e.g.
 * ECharts' server-side mode) would add tens of MB of dependencies for it.
 */
import { duration, rate } from './format.ts';
import type { BenchReport } from './run.ts';
import type { Spread } from './stats.ts';

export interface ChartSeries {
  name: string;
  /** One value per group; undefined where the series has no bar. */
  values: (Spread | undefined)[];
}

export interface ChartPanel {
  title: string;
  /** Formats an axis tick or a bar's label. */
  unit: 'duration' | 'rate';
  groups: string[];
  series: ChartSeries[];
}

const COLORS = ['#7f7f7f', '#1f77b4', '#ff7f0e', '#bcbd22', '#2ca02c', '#9467bd', '#d62728', '#17becf', '#8c564b', '#e377c2'];
const WIDTH = 960;
const PANEL_HEIGHT = 250;
const LEFT = 80;
const RIGHT = 20;
const TOP = 50;
const LEGEND_COLUMNS = 3;

/** Escaped for an XML attribute or text. */
function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Text to show: escaped, without Markdown backticks (the labels are shared with bench.md). */
function esc(s: string): string {
  return attr(s.replace(/`/g, ''));
}

function fmt(unit: ChartPanel['unit'], v: number): string {
  return unit === 'duration' ? duration(v) : rate(v);
}

function panelSvg(p: ChartPanel, y0: number, colorOf: (series: string) => string): string {
  const plotTop = y0 + 28;
  const plotHeight = PANEL_HEIGHT - 70;
  const plotBottom = plotTop + plotHeight;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const values = p.series.flatMap((s) => s.values.flatMap((v) => (v === undefined ? [] : [v.min, v.max, v.median]))).filter((v) => v > 0);
  const parts: string[] = [`<g class="panel"><text x="${LEFT}" y="${y0 + 16}" font-size="14" font-weight="bold">${esc(p.title)}</text>`];
  if (values.length === 0) {
    parts.push(`<text x="${LEFT}" y="${plotTop + 20}" font-size="12">no data</text></g>`);
    return parts.join('');
  }
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values))));
  const y = (v: number): number => plotBottom - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plotHeight;
  for (let d = lo; d <= hi; d++) {
    const ty = y(10 ** d);
    parts.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${ty.toFixed(1)}" y2="${ty.toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${(ty + 4).toFixed(1)}" font-size="11" text-anchor="end">${esc(fmt(p.unit, 10 ** d))}</text>`);
  }
  parts.push(`<line x1="${LEFT}" x2="${LEFT}" y1="${plotTop}" y2="${plotBottom}" stroke="#333"/>`);
  const groupWidth = plotWidth / p.groups.length;
  const barWidth = Math.min(28, (groupWidth - 16) / Math.max(1, p.series.length));
  p.groups.forEach((g, gi) => {
    const present = p.series.filter((s) => s.values[gi] !== undefined);
    const start = LEFT + gi * groupWidth + (groupWidth - present.length * barWidth) / 2;
    parts.push(`<text x="${(LEFT + gi * groupWidth + groupWidth / 2).toFixed(1)}" y="${plotBottom + 18}" font-size="12" text-anchor="middle">${esc(g)}</text>`);
    present.forEach((s, si) => {
      const v = s.values[gi]!;
      const x = start + si * barWidth;
      const top = y(v.median);
      parts.push(
        `<g class="bar" data-series="${attr(s.name)}"><title>${esc(`${s.name}, ${g}: ${fmt(p.unit, v.median)} (${fmt(p.unit, v.min)}–${fmt(p.unit, v.max)})`)}</title>` +
          `<rect x="${(x + 1).toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${Math.max(0.5, plotBottom - top).toFixed(1)}" fill="${colorOf(s.name)}"/>` +
          `<line x1="${(x + barWidth / 2).toFixed(1)}" x2="${(x + barWidth / 2).toFixed(1)}" y1="${y(v.max).toFixed(1)}" y2="${y(v.min).toFixed(1)}" stroke="#000" stroke-width="1"/></g>`,
      );
    });
  });
  parts.push('</g>');
  return parts.join('');
}

/** Panels stacked, one legend on top listing every series (one colour per series name across panels). */
export function chartSvg(title: string, panels: ChartPanel[]): string {
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  const colorOf = (n: string): string => COLORS[names.indexOf(n) % COLORS.length]!;
  const height = TOP + panels.length * PANEL_HEIGHT + 10;
  const legend = names
    .map((n, i) => {
      const x = 20 + (i % LEGEND_COLUMNS) * 300;
      const ly = 38 + Math.floor(i / LEGEND_COLUMNS) * 16;
      return `<g class="legend" data-series="${attr(n)}"><rect x="${x}" y="${ly - 10}" width="12" height="12" fill="${colorOf(n)}"/><text x="${x + 16}" y="${ly}" font-size="12">${esc(n)}</text></g>`;
    })
    .join('');
  const legendRows = Math.ceil(names.length / LEGEND_COLUMNS);
  const top = TOP + Math.max(0, legendRows - 1) * 16;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height + top - TOP}" viewBox="0 0 ${WIDTH} ${height + top - TOP}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="20" y="20" font-size="15" font-weight="bold">${esc(title)}</text>`,
    legend,
    ...panels.map((p, i) => panelSvg(p, top + i * PANEL_HEIGHT, colorOf)),
    '</svg>',
    '',
  ].join('\n');
}

/** The report's chart: echo and hash latency per plugin, then echo throughput per concurrency level for each plugin. */
export function benchChart(r: BenchReport): string {
  const targets = r.targets.filter((t) => r.cells.some((c) => c.target === t.name));
  const cell = (target: string, plugin: string) => r.cells.find((c) => c.target === target && c.plugin === plugin);
  const plugins = r.plugins.map((p) => p.name);
  const latencyPanel = (tool: 'echo' | 'hash'): ChartPanel => ({
    title: `${tool}: warm latency p50 (log scale; whisker: min–max over rounds; lower is better)`,
    unit: 'duration',
    groups: plugins,
    series: targets.map((t) => ({ name: t.label, values: plugins.map((p) => cell(t.name, p)?.summary.latency[tool].p50) })),
  });
  const levels = r.config.concurrency.map(String);
  const throughputPanels = plugins.map(
    (p): ChartPanel => ({
      title: `${p}: echo throughput, calls/s by callers at once (log scale; higher is better)`,
      unit: 'rate',
      groups: levels.map((l) => `${l} at once`),
      series: targets
        .filter((t) => cell(t.name, p) !== undefined)
        .map((t) => ({ name: t.label, values: levels.map((l) => cell(t.name, p)?.summary.throughput[l]) })),
    }),
  );
  return chartSvg(`airlock bench: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.startedAt.slice(0, 10)}`, [
    latencyPanel('echo'),
    latencyPanel('hash'),
    ...throughputPanels,
  ]);
}
