/**
 * Where a path inside a plugin folder really is (src/plugin-files/inside.ts): links that stay inside are
 * followed as realpath would; a link out of the folder is refused from its target's text, before anything
 * it names is looked at (a hung network mount or an automounter's folder is never touched).
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAirlockError } from '../../src/errors.ts';
import { folder, folderSync, locate, locateSync } from '../../src/plugin-files/inside.ts';

function plugin(): { dir: string; outside: string } {
  const root = mkdtempSync(join(tmpdir(), 'airlock-inside-'));
  const dir = join(root, 'plugin');
  const outside = join(root, 'outside');
  mkdirSync(join(dir, 'src', 'deep'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(dir, 'src', 'deep', 'main.js'), 'x');
  return { dir, outside };
}

const both = async (dir: string, rel: string): Promise<Array<{ real: string } | { reason: unknown; message: string }>> => {
  const out = [];
  for (const f of [
    () => locateSync('invalid-manifest', folderSync(dir, 'invalid-manifest'), rel),
    async () => locate('invalid-manifest', await folder(dir, 'invalid-manifest'), rel),
  ]) {
    try {
      out.push({ real: (await f()).real });
    } catch (e) {
      if (!isAirlockError(e)) throw e;
      out.push({ reason: e.details.reason, message: e.message });
    }
  }
  return out;
};

test('links inside the folder are followed to the canonical path, relative and absolute, through folders and chains', async (t) => {
  const { dir } = plugin();
  symlinkSync('src/deep', join(dir, 'd'));
  symlinkSync(join(dir, 'd', 'main.js'), join(dir, 'abs'));
  symlinkSync('../src/deep/main.js', join(dir, 'src', 'up'));
  symlinkSync('abs', join(dir, 'chain'));
  const real = join(dir, 'src', 'deep', 'main.js');
  for (const rel of ['d/main.js', 'abs', 'src/up', 'chain', 'src/deep/main.js']) t.deepEqual(await both(dir, rel), [{ real }, { real }], rel);
});

test('a link out of the folder is refused as outside from its text, without resolving what it names (a loop or a missing path out there is never looked at)', async (t) => {
  const { dir, outside } = plugin();
  // Out there: a link loop and a missing path. realpath would report a loop and a missing file: it looked.
  symlinkSync(join(outside, 'loop'), join(outside, 'loop'));
  symlinkSync(join(outside, 'loop'), join(dir, 'to-loop'));
  symlinkSync('../outside/nowhere/x', join(dir, 'to-nowhere'));
  symlinkSync('/net/some-host/share/file', join(dir, 'to-automount'));
  mkdirSync(join(dir, 'sub'));
  symlinkSync('../../outside', join(dir, 'sub', 'up-out'));
  for (const rel of ['to-loop', 'to-nowhere', 'to-automount', 'sub/up-out/x']) {
    for (const r of await both(dir, rel)) {
      t.like(r, { reason: 'outside' }, rel);
      t.regex((r as { message: string }).message, /outside the plugin folder/, rel);
    }
  }
});

test('a loop inside the folder and a missing name are refused as such', async (t) => {
  const { dir } = plugin();
  symlinkSync('b', join(dir, 'a'));
  symlinkSync('a', join(dir, 'b'));
  for (const r of await both(dir, 'a')) t.like(r, { reason: 'loop' });
  for (const r of await both(dir, 'src/missing.js')) t.like(r, { reason: 'missing' });
  for (const r of await both(dir, 'src/deep/main.js/x')) t.like(r, { reason: 'missing' });
});
