/** Copying a plugin folder into a build folder (src/plugin-files/copy.ts). */
import test from 'ava';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../../src/errors.ts';
import { copyPluginTree } from '../../src/plugin-files/index.ts';
import { fifo, linkTo } from '../helpers/hostile-files.ts';
import { tempDir } from '../helpers/plugin.ts';

test('the copy keeps files, executable bits and inside symlinks, re-pointed into the copy; ignored entries stay behind', async (t) => {
  const dir = tempDir();
  mkdirSync(join(dir, 'pkg'));
  writeFileSync(join(dir, 'pkg/mod.py'), 'x = 1\n');
  writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  linkTo(join(dir, 'pkg/mod.py'), join(dir, 'abs-link.py'));
  linkTo('pkg', join(dir, 'pkg-link'));
  mkdirSync(join(dir, '__pycache__'));
  fifo(join(dir, '__pycache__/x'));
  const dest = join(tempDir(), 'src');
  await copyPluginTree(dir, dest, { code: 'build-failed', ignore: (rel) => rel === '__pycache__' });
  t.is(readFileSync(join(dest, 'pkg/mod.py'), 'utf8'), 'x = 1\n');
  t.not(statSync(join(dest, 'run.sh')).mode & 0o111, 0);
  t.is(readlinkSync(join(dest, 'abs-link.py')), 'pkg/mod.py');
  t.is(realpathSync(join(dest, 'pkg-link')), realpathSync(join(dest, 'pkg')));
  t.throws(() => lstatSync(join(dest, '__pycache__')));
});

test('a FIFO or a link out in the folder fails the copy with build-failed, and nothing blocks', async (t) => {
  const dir = tempDir();
  fifo(join(dir, 'main.py'));
  const err = await t.throwsAsync(copyPluginTree(dir, join(tempDir(), 'c'), { code: 'build-failed' }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
  const out = tempDir();
  linkTo('/etc/passwd', join(out, 'passwd'));
  t.is((await t.throwsAsync(copyPluginTree(out, join(tempDir(), 'c'), { code: 'build-failed' }), { instanceOf: AirlockError }))?.details.reason, 'outside');
});
