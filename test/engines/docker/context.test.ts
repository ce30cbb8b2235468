/** Build contexts: ignore rules and the tar writer (no Docker needed). */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectPlugin, ignoreMatcher, pluginIgnore, tar } from '../../../src/engines/docker/context.ts';
import { tempDir } from '../../helpers/plugin.ts';

test('gitignore-style patterns: globs, folders, anchors, negation', (t) => {
  const ig = ignoreMatcher(['*.log', 'build/', '/top.txt', 'docs/**/*.md', '!keep.log', '# comment', '']);
  t.true(ig('a.log', false));
  t.true(ig('sub/a.log', false));
  t.false(ig('keep.log', false));
  t.true(ig('build', true));
  t.false(ig('build', false));
  t.true(ig('top.txt', false));
  t.false(ig('sub/top.txt', false));
  t.true(ig('docs/a/b/c.md', false));
  t.true(ig('docs/c.md', false));
  t.false(ig('main.py', false));
});

test('the context leaves out defaults and ignored files, and tar lists what is left', async (t) => {
  const dir = tempDir();
  mkdirSync(join(dir, 'node_modules/x'), { recursive: true });
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'node_modules/x/index.js'), '');
  writeFileSync(join(dir, 'src/main.py'), 'print(1)\n');
  writeFileSync(join(dir, 'secret.env'), 'TOKEN=1');
  writeFileSync(join(dir, '.airlockignore'), '*.env\n');
  const { file, ignore } = await pluginIgnore(dir);
  t.is(file, '.airlockignore');
  const entries = await collectPlugin(dir, ignore);
  t.deepEqual(
    entries.map((e) => e.path),
    ['plugin/', 'plugin/.airlockignore', 'plugin/src/', 'plugin/src/main.py'],
  );
  const long = `plugin/${'d'.repeat(120)}/file.txt`;
  const archive = tar([...entries, { path: long, type: 'file', data: Buffer.from('x') }]);
  const out = tempDir();
  writeFileSync(join(out, 'c.tar'), archive);
  const listed = execFileSync('tar', ['-tf', join(out, 'c.tar')], { encoding: 'utf8' })
    .trim()
    .split('\n');
  t.deepEqual(listed, ['plugin/', 'plugin/.airlockignore', 'plugin/src/', 'plugin/src/main.py', long]);
  execFileSync('tar', ['-xf', join(out, 'c.tar'), '-C', out]);
  const { readFileSync } = await import('node:fs');
  t.is(readFileSync(join(out, 'plugin/src/main.py'), 'utf8'), 'print(1)\n');
  t.is(readFileSync(join(out, long), 'utf8'), 'x');
  // Same files, same bytes.
  t.deepEqual(tar(entries), tar(await collectPlugin(dir, ignore)));
});

test('a dependency file that is a FIFO, device or symlink out fails the context with build-failed, without blocking', async (t) => {
  const { device, fifo, linkTo } = await import('../../helpers/hostile-files.ts');
  const { AirlockError } = await import('../../../src/errors.ts');
  for (const make of [fifo, device, (p: string) => linkTo('/etc/hostname', p)]) {
    const dir = tempDir();
    writeFileSync(join(dir, 'main.py'), '');
    make(join(dir, 'requirements.txt'));
    const { ignore } = await pluginIgnore(dir);
    const err = await t.throwsAsync(collectPlugin(dir, ignore), { instanceOf: AirlockError });
    t.is(err?.code, 'build-failed');
    t.true(err?.message.includes('requirements.txt'));
  }
});

test('a context over the file cap fails with build-failed and says to use .airlockignore', async (t) => {
  const dir = tempDir();
  mkdirSync(join(dir, 'data'));
  for (let i = 0; i <= 20_000; i++) writeFileSync(join(dir, 'data', `f${i}`), '');
  const err = await t.throwsAsync(collectPlugin(dir, (await pluginIgnore(dir)).ignore));
  t.regex(err?.message ?? '', /more than 20000 files, folders and symlinks; list what the image does not need in \.airlockignore/);
});
