/**
 * The cache root holds code the host runs: it must be the user's own and
 * closed to everyone else. A root others may write to, or that another user
 * owns, is refused with the path, its mode or owner and the fix; one of the
 * user's own that others may only read is repaired to 0700. AIRLOCK_CACHE_DIR
 * is changed per test, so these run serially.
 */
import test from 'ava';
import { chmodSync, chownSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../src/errors.ts';
import { cacheDir } from '../src/paths.ts';
import { fileURLToPath } from 'node:url';
import { cli } from './helpers/cli.ts';
import { tempDir } from './helpers/plugin.ts';

function withCacheDir(t: import('ava').ExecutionContext, root: string): void {
  const saved = process.env.AIRLOCK_CACHE_DIR;
  process.env.AIRLOCK_CACHE_DIR = root;
  t.teardown(() => {
    if (saved === undefined) delete process.env.AIRLOCK_CACHE_DIR;
    else process.env.AIRLOCK_CACHE_DIR = saved;
  });
}

function root(mode: number): string {
  const dir = join(tempDir(), 'cache');
  mkdirSync(dir);
  chmodSync(dir, mode);
  return dir;
}

test.serial('cache root mode/owner: a new root is created 0700', (t) => {
  const dir = join(tempDir(), 'new', 'cache');
  withCacheDir(t, dir);
  t.is(cacheDir('build'), join(dir, 'build'));
  t.is(statSync(dir).mode & 0o777, 0o700);
});

test.serial('cache root mode/owner: a root group or others may write to (0777, 0775) is refused, naming the path, mode and fix', (t) => {
  for (const mode of [0o777, 0o775, 0o757]) {
    const dir = root(mode);
    withCacheDir(t, dir);
    const err = t.throws(() => cacheDir('build'), { instanceOf: AirlockError });
    t.is(err.code, 'permission-denied');
    t.true(err.message.includes(`the cache root ${dir} is mode 0${mode.toString(8)}`), err.message);
    t.regex(err.message, /rm -rf .*AIRLOCK_CACHE_DIR/);
    t.is(statSync(dir).mode & 0o777, mode, 'a refused root is left as it was');
  }
});

test.serial('cache root mode/owner: a root owned by another user is refused, naming its owner', (t) => {
  t.is(process.getuid?.(), 0, 'the test machine runs as root, so it can give a folder away');
  const dir = root(0o700);
  chownSync(dir, 12345, 12345);
  withCacheDir(t, dir);
  const err = t.throws(() => cacheDir('build'), { instanceOf: AirlockError });
  t.true(err.message.includes(`the cache root ${dir} is owned by uid 12345, not by this user (uid 0), mode 0700`), err.message);
});

test.serial("cache root mode/owner: the user's own root that others may only read (0755) is repaired to 0700, once per process", (t) => {
  const dir = root(0o755);
  withCacheDir(t, dir);
  t.is(cacheDir('x'), join(dir, 'x'));
  t.is(statSync(dir).mode & 0o777, 0o700);
  // Checked once per process and root: later calls do not stat it again.
  chmodSync(dir, 0o755);
  cacheDir('y');
  t.is(statSync(dir).mode & 0o777, 0o755);
});

test.serial('cache root mode/owner: airlock call on a 0777 root stops with the path, mode and fix (exit 1, not a crash)', async (t) => {
  const dir = root(0o777);
  withCacheDir(t, dir);
  const run = await cli(['call', 'fixtures/plugins/echo-c', 'echo'], { cwd: fileURLToPath(new URL('../', import.meta.url)) });
  t.is(run.code, 1);
  t.true(run.stderr.startsWith(`airlock call: permission-denied: the cache root ${dir} is mode 0777`), run.stderr);
});
