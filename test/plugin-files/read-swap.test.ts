/**
 * The bounded reader (src/plugin-files/read.ts) against a parent folder swapped for a symlink between the
 * check and the open: the file is opened one folder at a time below the plugin folder, never following a
 * symlink, so nothing outside the folder (a FIFO, a device, a file on a mount that hangs) is ever opened.
 * The swap is made deterministic by running it right after the reader's own type check (its lstat).
 */
import test, { type ExecutionContext } from 'ava';
import fs, { mkdirSync, readlinkSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { AirlockError } from '../../src/errors.ts';
import { readPluginFile, readPluginFileSync } from '../../src/plugin-files/index.ts';
import { fifo } from '../helpers/hostile-files.ts';
import { tempDir } from '../helpers/plugin.ts';

/** A plugin folder with `sub/entry.bin`, and outside it a folder holding a FIFO of the same name. */
function scene(): { dir: string; outside: string; target: string; swap: () => void } {
  const dir = tempDir();
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'entry.bin'), 'inside');
  const outside = tempDir();
  fifo(join(outside, 'entry.bin'));
  const swap = (): void => {
    renameSync(join(dir, 'sub'), join(dir, 'sub.was'));
    symlinkSync(outside, join(dir, 'sub'));
  };
  return { dir, outside, target: join(dir, 'sub', 'entry.bin'), swap };
}

/**
 * Runs `fn` with the swap made once, right after the reader lstat()s `target`, and with every open recorded
 * as what it really opened (its /proc/self/fd link).
 */
async function withSwap<T>(target: string, swap: () => void, fn: () => Promise<T>): Promise<{ result: unknown; opened: string[] }> {
  const orig = { lstat: fsp.lstat, lstatSync: fs.lstatSync, open: fsp.open, openSync: fs.openSync };
  const opened: string[] = [];
  let swapped = false;
  const after = (p: unknown): void => {
    if (!swapped && String(p) === target) {
      swapped = true;
      swap();
    }
  };
  const record = (fd: number): void => {
    opened.push(readlinkSync(`/proc/self/fd/${fd}`));
  };
  (fsp as { lstat: unknown }).lstat = async (...a: Parameters<typeof fsp.lstat>) => {
    const st = await orig.lstat(...a);
    after(a[0]);
    return st;
  };
  (fs as { lstatSync: unknown }).lstatSync = (...a: Parameters<typeof fs.lstatSync>) => {
    const st = orig.lstatSync(...a);
    after(a[0]);
    return st;
  };
  (fsp as { open: unknown }).open = async (...a: Parameters<typeof fsp.open>) => {
    const h = await orig.open(...a);
    record(h.fd);
    return h;
  };
  (fs as { openSync: unknown }).openSync = (...a: Parameters<typeof fs.openSync>) => {
    const fd = orig.openSync(...a);
    record(fd);
    return fd;
  };
  syncBuiltinESMExports();
  try {
    let result: unknown;
    try {
      result = await fn();
    } catch (e) {
      result = e;
    }
    return { result, opened };
  } finally {
    Object.assign(fsp, { lstat: orig.lstat, open: orig.open });
    Object.assign(fs, { lstatSync: orig.lstatSync, openSync: orig.openSync });
    syncBuiltinESMExports();
  }
}

const opts = { code: 'build-failed' as const, maxBytes: 1024 };

async function refusedUnopened(t: ExecutionContext, read: (dir: string) => Promise<unknown>): Promise<void> {
  const s = scene();
  const { result, opened } = await withSwap(s.target, s.swap, () => read(s.dir));
  // Before the fix the reader opened the FIFO outside (caught only after the open, from its /proc link).
  t.deepEqual(
    opened.filter((p) => p.startsWith(s.outside)),
    [],
    'nothing outside the plugin folder was opened',
  );
  t.true(result instanceof AirlockError, String(result));
  const err = result as AirlockError;
  t.is(err.code, 'build-failed');
  t.is(err.details.reason, 'outside');
  t.regex(err.message, /swapped for a symlink/);
}

test.serial('a parent folder swapped for a symlink after the check is refused without opening what it leads to (async)', (t) =>
  refusedUnopened(t, (dir) => readPluginFile(dir, 'sub/entry.bin', opts)),
);

test.serial('a parent folder swapped for a symlink after the check is refused without opening what it leads to (sync)', (t) =>
  refusedUnopened(t, async (dir) => readPluginFileSync(dir, 'sub/entry.bin', opts)),
);

test.serial('without a swap, files in nested folders and at the top are read as before', async (t) => {
  const dir = tempDir();
  mkdirSync(join(dir, 'a', 'b'), { recursive: true });
  writeFileSync(join(dir, 'a', 'b', 'deep.txt'), 'deep');
  writeFileSync(join(dir, 'top.txt'), 'top');
  symlinkSync('a/b', join(dir, 'via'));
  t.is((await readPluginFile(dir, 'a/b/deep.txt', opts)).toString(), 'deep');
  t.is(readPluginFileSync(dir, 'via/deep.txt', opts).toString(), 'deep');
  t.is((await readPluginFile(dir, 'top.txt', opts)).toString(), 'top');
});
