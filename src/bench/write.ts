/** Writes a report's three outputs into one folder: bench.json, bench.md, bench.svg. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { benchMarkdown } from './markdown.ts';
import type { BenchReport } from './run.ts';
import { benchChart } from './svg.ts';

export interface BenchOutputs {
  json: string;
  markdown: string;
  svg: string;
}

export async function writeBenchOutputs(report: BenchReport, dir: string): Promise<BenchOutputs> {
  await mkdir(dir, { recursive: true });
  const out = { json: join(dir, 'bench.json'), markdown: join(dir, 'bench.md'), svg: join(dir, 'bench.svg') };
  await writeFile(out.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(out.markdown, benchMarkdown(report));
  await writeFile(out.svg, benchChart(report));
  return out;
}
