/** The bounded walker (src/plugin-files/walk.ts): entry count, bytes and depth caps; hostile entries refused unless ignored. */
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../../src/errors.ts';
import { TREE_LIMITS, walkPluginTree } from '../../src/plugin-files/index.ts';
import { device, fifo, linkTo, loop, socket } from '../helpers/hostile-files.ts';
import { tempDir } from '../helpers/plugin.ts';

test('entries come sorted, folders before their contents, symlinks inside by their link text, ignored ones left out', async (t) => {
  const dir = tempDir();
  mkdirSync(join(dir, 'b'));
  writeFileSync(join(dir, 'b/x.py'), 'x');
  writeFileSync(join(dir, 'a.sh'), '#!/bin/sh', { mode: 0o755 });
  linkTo('b/x.py', join(dir, 'c'));
  fifo(join(dir, 'skip.fifo'));
  const { entries } = await walkPluginTree(dir, { code: 'build-failed', ignore: (rel) => rel.endsWith('.fifo') });
  t.deepEqual(
    entries.map((e) => [e.rel, e.type, e.executable, e.linkTarget]),
    [
      ['a.sh', 'file', true, undefined],
      ['b', 'dir', false, undefined],
      ['b/x.py', 'file', false, undefined],
      ['c', 'symlink', false, 'b/x.py'],
    ],
  );
});

for (const [name, make, reason] of [
  ['a FIFO', (p: string) => fifo(p), 'type'],
  ['a socket', (p: string) => socket(p), 'type'],
  ['a device', (p: string) => device(p), 'type'],
  ['a symlink loop', (p: string) => loop(p, `${p}-2`), 'loop'],
  ['a symlink out of the folder', (p: string) => linkTo('/etc/hostname', p), 'outside'],
  ['a dangling symlink', (p: string) => linkTo('nowhere', p), 'outside'],
] as const) {
  test(`${name} in a plugin folder is refused by the walker with the caller's code (${reason})`, async (t) => {
    const dir = tempDir();
    mkdirSync(join(dir, 'src'));
    make(join(dir, 'src/bad'));
    const err = await t.throwsAsync(walkPluginTree(dir, { code: 'build-failed' }), { instanceOf: AirlockError });
    t.is(err?.code, 'build-failed');
    t.is(err?.details.reason, reason);
    t.true(err?.message.includes(join(dir, 'src/bad')), err?.message);
  });
}

test('a folder with too many entries is refused (tree), at the default cap and a given one', async (t) => {
  const dir = tempDir();
  for (let i = 0; i < 11; i++) writeFileSync(join(dir, `f${i}`), '');
  const err = await t.throwsAsync(walkPluginTree(dir, { code: 'build-failed', limits: { maxEntries: 10 }, hint: 'list it in .airlockignore' }), {
    instanceOf: AirlockError,
  });
  t.is(err?.details.reason, 'tree');
  t.regex(err?.message ?? '', /has more than 10 files, folders and symlinks; list it in \.airlockignore/);
  const many = tempDir();
  for (let i = 0; i <= TREE_LIMITS.maxEntries; i++) writeFileSync(join(many, `f${i}`), '');
  t.is((await t.throwsAsync(walkPluginTree(many, { code: 'invalid-manifest' }), { instanceOf: AirlockError }))?.code, 'invalid-manifest');
});

test('a folder nested deeper than the cap is refused (tree)', async (t) => {
  const dir = tempDir();
  const deep = join(dir, ...Array.from({ length: TREE_LIMITS.maxDepth + 1 }, () => 'd'));
  mkdirSync(deep, { recursive: true });
  const err = await t.throwsAsync(walkPluginTree(dir, { code: 'build-failed' }), { instanceOf: AirlockError });
  t.is(err?.details.reason, 'tree');
  t.regex(err?.message ?? '', /nested more than 32 folders deep/);
  const ok = tempDir();
  mkdirSync(join(ok, ...Array.from({ length: TREE_LIMITS.maxDepth }, () => 'd')), { recursive: true });
  t.is((await walkPluginTree(ok, { code: 'build-failed' })).entries.length, TREE_LIMITS.maxDepth);
});

test('files adding up past the byte cap are refused before any is read (tree)', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a'), Buffer.alloc(600));
  writeFileSync(join(dir, 'b'), Buffer.alloc(600));
  const err = await t.throwsAsync(walkPluginTree(dir, { code: 'build-failed', limits: { maxBytes: 1000 } }), { instanceOf: AirlockError });
  t.regex(err?.message ?? '', /holds more than 1000 bytes of files \(at b\)/);
});

test('a folder listing more entries than the listing cap is refused, ignored ones included (a listing is never held whole)', async (t) => {
  const dir = tempDir();
  mkdirSync(join(dir, 'logs'));
  for (let i = 0; i < 60; i++) writeFileSync(join(dir, 'logs', `f${i}.log`), '');
  writeFileSync(join(dir, 'main.py'), '');
  // Every .log is ignored: none counts toward maxEntries, yet each was listed and held in memory.
  const walk = (maxListed: number) =>
    walkPluginTree(dir, { code: 'build-failed', ignore: (rel) => rel.endsWith('.log'), limits: { maxEntries: 10, maxListed }, hint: 'clear it' });
  t.deepEqual(
    (await walk(100)).entries.map((e) => e.rel),
    ['logs', 'main.py'],
  );
  const err = await t.throwsAsync(walk(50), { instanceOf: AirlockError });
  t.is(err?.details.reason, 'tree');
  t.regex(err?.message ?? '', /lists more than 50 entries \(ignored ones included\); clear it/);
  t.true(err?.message.includes(join(dir, 'logs')), err?.message);
});
