/** Ignore files (src/plugin-files/ignore.ts): Docker's rules, bounded, and read with the bounded reader. */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../../src/errors.ts';
import { ignoreMatcher, MAX_IGNORE_BYTES, pluginIgnore } from '../../src/plugin-files/index.ts';
import { MAX_IGNORE_PATTERN_LENGTH, MAX_IGNORE_PATTERNS } from '../../src/plugin-files/ignore.ts';
import { device, fifo, linkTo, loop, socket } from '../helpers/hostile-files.ts';
import { tempDir } from '../helpers/plugin.ts';

test('negation: the last matching rule wins, as in Docker; folder-only and anchored rules', (t) => {
  const ig = ignoreMatcher(['*.md', '!README.md', 'docs/', '/top', 'a/b']);
  t.true(ig('x.md', false));
  t.false(ig('README.md', false));
  t.true(ig('sub/x.md', false));
  t.true(ig('docs', true));
  t.false(ig('docs', false));
  t.true(ig('top', false));
  t.false(ig('sub/top', false));
  t.true(ig('a/b', false));
  t.false(ig('x/a/b', false));
  t.true(ignoreMatcher(['*.md', '!README.md', 'README.md'])('README.md', false));
});

test('too many patterns, or one too long, is a build-failed error naming the file', (t) => {
  const many = Array.from({ length: MAX_IGNORE_PATTERNS + 1 }, (_, i) => `f${i}`);
  const err = t.throws(() => ignoreMatcher(many, '/p/.airlockignore'), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
  t.regex(err?.message ?? '', /\/p\/\.airlockignore: has more than 1000 patterns/);
  t.notThrows(() => ignoreMatcher(many.slice(1)));
  t.regex(t.throws(() => ignoreMatcher(['x'.repeat(MAX_IGNORE_PATTERN_LENGTH + 1)]))?.message ?? '', /is 257 characters; the limit is 256/);
});

test('.dockerignore is read when there is no .airlockignore; no ignore file gives the defaults', async (t) => {
  const dir = tempDir();
  t.is((await pluginIgnore(dir)).file, undefined);
  t.true((await pluginIgnore(dir)).ignore('node_modules', true));
  writeFileSync(join(dir, '.dockerignore'), '*.env\n');
  const { file, ignore } = await pluginIgnore(dir);
  t.is(file, '.dockerignore');
  t.true(ignore('a.env', false));
});

for (const [name, make, reason] of [
  ['a FIFO', (p: string) => fifo(p), 'type'],
  ['a socket', (p: string) => socket(p), 'type'],
  ['a device', (p: string) => device(p), 'type'],
  ['a symlink loop', (p: string) => loop(p, `${p}.2`), 'loop'],
  ['a symlink out of the folder', (p: string) => linkTo('/etc/hostname', p), 'outside'],
  ['oversized', (p: string) => writeFileSync(p, Buffer.alloc(MAX_IGNORE_BYTES + 1, 0x61)), 'size'],
] as const) {
  test(`an ignore file that is ${name} is refused (build-failed, ${reason}), not skipped and never blocking`, async (t) => {
    const dir = tempDir();
    make(join(dir, '.airlockignore'));
    const err = await t.throwsAsync(pluginIgnore(dir), { instanceOf: AirlockError });
    t.is(err?.code, 'build-failed');
    t.is(err?.details.reason, reason);
    t.true(err?.message.includes('.airlockignore'));
  });
}

// ---- hunt (hostile data) ----
/** Median time of `ignore` over `paths`, in ms (medians of interleaved runs: the machine's load cancels out of a ratio). */
function medianCost(ignore: (p: string, dir: boolean) => boolean, paths: string[]): number {
  const times = paths.map((p) => {
    const start = performance.now();
    ignore(p, false);
    return performance.now() - start;
  });
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

test('a hostile ignore file (`*a*a*a…` patterns up to the size cap) against names of `a`s costs about what a plain one of the same size does, not hundreds of times more', (t) => {
  const hostileLine = `${'*a'.repeat(127)}b`;
  const count = Math.floor(MAX_IGNORE_BYTES / (hostileLine.length + 1));
  const hostile = ignoreMatcher(Array.from({ length: count }, () => hostileLine));
  // As many patterns of the same length, with one `*`: a plain file's shape.
  const plain = ignoreMatcher(Array.from({ length: count }, () => `*${'x'.repeat(hostileLine.length - 1)}`));
  const paths = Array.from({ length: 9 }, (_, i) => Array.from({ length: 8 }, (_, d) => `${'a'.repeat(249)}${(i + d) % 10}`).join('/'));
  medianCost(hostile, paths.slice(0, 1)); // compiled and warm, as in a walk
  medianCost(plain, paths.slice(0, 1));
  // The least of three rounds: a busy machine only ever slows one side of one round.
  let ratio = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) ratio = Math.min(ratio, medianCost(hostile, paths) / Math.max(medianCost(plain, paths), 0.05));
  t.true(ratio < 10, `the hostile file costs ${ratio.toFixed(1)}x a plain one per entry`);
});

test('more than 512 `[…]` class ranges over an ignore file is a build-failed error naming it (each is tested on every character walked)', (t) => {
  const err = t.throws(
    () =>
      ignoreMatcher(
        [`${'[a-z]'.repeat(50)}`, ...Array.from({ length: 11 }, () => '[abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ]')],
        '/p/.airlockignore',
      ),
    {
      instanceOf: AirlockError,
    },
  );
  t.is(err?.code, 'build-failed');
  t.regex(err?.message ?? '', /\/p\/\.airlockignore: its patterns hold more than 512 `\[…\]` class ranges \(pattern 10\)/);
  t.notThrows(() => ignoreMatcher(['*.[ch]', '[Mm]akefile', 'build-[0-9]*']));
});
