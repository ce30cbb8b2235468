/**
 * Pastes a run's bench.md into README.md between the `bench:begin` and
 * `bench:end` markers, verbatim (the chart is linked, not pasted):
 *
 *   node src/cli/main.ts bench --rounds 3 --out test/bench/results
 *   node test/bench/update-readme.ts [test/bench/results/bench.md]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const source = process.argv[2] ?? fileURLToPath(new URL('results/bench.md', import.meta.url));
const BEGIN = '<!-- bench:begin (generated: node test/bench/update-readme.ts) -->';
const END = '<!-- bench:end -->';

const readme = readFileSync(README, 'utf8');
const from = readme.indexOf(BEGIN);
const to = readme.indexOf(END);
if (from === -1 || to < from) {
  console.error(`README.md has no "${BEGIN}" … "${END}" block`);
  process.exit(1);
}
writeFileSync(README, `${readme.slice(0, from + BEGIN.length)}\n${readFileSync(source, 'utf8').trimEnd()}\n${readme.slice(to)}`);
console.log(`README.md: pasted ${source}`);
