/**
 * bench.md: the report as Markdown tables, the README's Benchmarks section
 * verbatim (pasted between its `bench:begin` / `bench:end` markers).
 */
import { bytes, duration, ratio, spreadText } from './format.ts';
import type { BenchReport, CellResult } from './run.ts';

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function header(cells: string[], numericFrom: number): string[] {
  return [row(cells), row(cells.map((_, i) => (i >= numericFrom ? '---:' : '---')))];
}

function machineLine(r: BenchReport): string {
  const m = r.machine;
  const load = (l: number[] | undefined): string => (l === undefined ? '?' : l[0]!.toFixed(1));
  const v = r.versions;
  const versions = [
    `Node ${v.node}`,
    v.wasmtime === undefined ? undefined : `wasmtime ${v.wasmtime}`,
    v.docker === undefined ? undefined : `Docker ${v.docker}`,
    `jco ${v.jco}`,
    `preview2-shim ${v['preview2-shim']}`,
    `componentize-js ${v['componentize-js']}`,
    v['componentize-py'],
  ]
    .filter((x) => x !== undefined)
    .join(', ');
  return `${m.cpu}, ${m.cores} cores, ${bytes(m.memoryBytes)}, ${m.os} (${m.arch}); 1-minute load average ${load(m.loadBefore)} before, ${load(m.loadAfter)} after. ${versions}.`;
}

export function benchMarkdown(r: BenchReport): string {
  const label = new Map(r.targets.map((t) => [t.name, t.label]));
  const name = (c: CellResult): string => label.get(c.target) ?? c.target;
  const levels = r.config.concurrency.map(String);
  const out: string[] = [];
  out.push(
    `Command: \`${r.command}\` (${r.config.rounds} interleaved rounds, wall time ${duration(r.wallMs)}, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC).`,
  );
  out.push('');
  out.push(`Machine: ${machineLine(r)}`);
  out.push('');
  out.push(
    `Each figure is the median over rounds, with the range (min–max) in brackets. \`echo\` returns \`${r.config.inputs.echo}\`; \`hash\` is FNV-1a over a generated ${r.config.hashSize / 1024} KiB buffer, computed by the plugin's own language. "× in-thread" divides by the in-thread baseline of the same plugin.`,
  );
  for (const s of r.skipped) out.push('', `Skipped ${s.target}: ${s.reason}.`);
  for (const f of r.failures) out.push('', `**Failed**: round ${f.round + 1}, ${f.target} on ${f.plugin} (no figures from it): ${f.message}`);

  out.push('', '**Warm latency** (sequential calls on a warm instance)', '');
  out.push(...header(['engine', 'plugin', 'echo p50', 'echo p95', 'echo p99', '× in-thread', 'hash p50', '× in-thread'], 2));
  for (const c of r.cells) {
    const l = c.summary.latency;
    out.push(
      row([
        name(c),
        c.plugin,
        spreadText(l.echo.p50, 'duration'),
        spreadText(l.echo.p95, 'duration'),
        spreadText(l.echo.p99, 'duration'),
        ratio(c.summary.ratio.echoP50),
        spreadText(l.hash.p50, 'duration'),
        ratio(c.summary.ratio.hashP50),
      ]),
    );
  }

  out.push('', '**Throughput** (`echo` calls/s with N callers at once; "instances" is the pool size the engine got)', '');
  out.push(...header(['engine', 'plugin', 'instances', ...levels.map((c) => `${c} at once`), '× in-thread (1)'], 2));
  for (const c of r.cells) {
    out.push(
      row([name(c), c.plugin, String(c.instances), ...levels.map((l) => spreadText(c.summary.throughput[l], 'rate')), ratio(c.summary.ratio.throughput1)]),
    );
  }

  out.push(
    '',
    '**Cold start and memory** (cold: load to first result; without caches: build from source + load with empty transpile/compile caches, or a new image)',
    '',
  );
  out.push(...header(['engine', 'plugin', 'cold, cached', 'load, no caches', 'cold, no caches (build + load)', 'memory per live instance'], 2));
  for (const c of r.cells) {
    const s = c.summary;
    out.push(
      row([
        name(c),
        c.plugin,
        spreadText(s.coldCachedMs, 'duration'),
        spreadText(s.loadUncachedMs, 'duration'),
        spreadText(s.coldUncachedMs, 'duration'),
        spreadText(s.memoryBytes, 'bytes'),
      ]),
    );
  }

  out.push('', '**Builds from source** (empty caches; images on a cached base image)', '');
  out.push(...header(['plugin', 'component (componentize / clang)', 'Docker image'], 1));
  for (const p of r.plugins) {
    const b = (stage: 'component' | 'image') => spreadText(r.builds.find((x) => x.plugin === p.name && x.stage === stage)?.summary, 'duration');
    out.push(row([`${p.name} (${p.language})`, b('component'), b('image')]));
  }
  return `${out.join('\n')}\n`;
}
