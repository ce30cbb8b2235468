/** Content hashes of plugin folders (src/content-hash.ts), walked and read with src/plugin-files. */
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashTree } from '../src/content-hash.ts';
import { AirlockError } from '../src/errors.ts';
import { device, fifo, linkTo, loop, socket } from './helpers/hostile-files.ts';
import { tempDir } from './helpers/plugin.ts';

test('the hash follows content, modes and symlink text, and not ignored entries', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.py'), 'a');
  const first = await hashTree(dir);
  t.is(await hashTree(dir), first);
  writeFileSync(join(dir, 'a.py'), 'b');
  const second = await hashTree(dir);
  t.not(second, first);
  linkTo('a.py', join(dir, 'l'));
  t.not(await hashTree(dir), second);
  mkdirSync(join(dir, 'node_modules'));
  fifo(join(dir, 'node_modules/p'));
  t.is(await hashTree(dir, { ignore: (rel) => rel === 'node_modules' }), await hashTree(dir, { ignore: (rel) => rel === 'node_modules' }));
});

test('a FIFO, socket, device, symlink loop or symlink out in the folder fails the hash with build-failed; a FIFO blocks nothing', async (t) => {
  t.timeout(120_000);
  for (const make of [fifo, socket, device, (p: string) => loop(p, `${p}.2`), (p: string) => linkTo('/etc/hostname', p)]) {
    const dirs = Array.from({ length: 6 }, () => {
      const d = tempDir();
      make(join(d, 'x'));
      return d;
    });
    const unrelated = tempDir();
    writeFileSync(join(unrelated, 'u'), 'u');
    const [errors, text] = await Promise.all([
      Promise.all(
        dirs.map((d) =>
          hashTree(d).then(
            () => undefined,
            (e: unknown) => e,
          ),
        ),
      ),
      readFile(join(unrelated, 'u'), 'utf8'),
    ]);
    t.is(text, 'u');
    for (const e of errors) {
      t.true(e instanceof AirlockError);
      t.is((e as AirlockError).code, 'build-failed');
    }
  }
});

test('a folder with more files than the cap fails the hash with build-failed', async (t) => {
  const dir = tempDir();
  for (let i = 0; i < 6; i++) writeFileSync(join(dir, `f${i}`), '');
  const err = await t.throwsAsync(hashTree(dir, { maxFiles: 5 }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
  t.regex(err?.message ?? '', /more than 5 files/);
});
