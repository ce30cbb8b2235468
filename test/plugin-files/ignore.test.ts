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
