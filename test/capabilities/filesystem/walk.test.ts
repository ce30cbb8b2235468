/**
 * The path walk (src/capabilities/filesystem/walk.ts) called directly, below a
 * real temp folder standing for a grant, with a folder beside it standing for
 * what the grant must not reach. Each test pins today's exact outcome (the
 * WASI error code) for one kind of hostile path, and that a failed walk
 * gives back every fd it opened.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import {
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeFd, MAX_OPEN_FDS, openFd } from '../../../src/capabilities/filesystem/fds.ts';
import { createQuotaState, Quota, quotaUsage } from '../../../src/capabilities/filesystem/quota.ts';
import { atPath, openBelow, walk } from '../../../src/capabilities/filesystem/walk.ts';
import { thrown } from './helpers.ts';

const { O_RDONLY, O_WRONLY, O_CREAT, O_DIRECTORY } = constants;

const base = realpathSync(mkdtempSync(join(tmpdir(), 'airlock-walk-')));
const root = join(base, 'grant');
const outside = join(base, 'outside');
mkdirSync(join(root, 'a', 'b'), { recursive: true });
mkdirSync(outside);
writeFileSync(join(outside, 'secret'), 'secret');
writeFileSync(join(root, 'f.txt'), 'top');
writeFileSync(join(root, 'a', 'b', 'f.txt'), 'deep');
symlinkSync(outside, join(root, 'abs'));
symlinkSync('../outside', join(root, 'rel'));
symlinkSync(join(outside, 'secret'), join(root, 'secret-link'));
symlinkSync('a', join(root, 'inside-link'));
symlinkSync('loop2', join(root, 'loop1'));
symlinkSync('loop1', join(root, 'loop2'));
// A chain of 40 links (the kernel gives up following after 40).
for (let i = 0; i < 40; i++) symlinkSync(i === 39 ? 'a' : `chain${i + 1}`, join(root, `chain${i}`));
execFileSync('mkfifo', [join(root, 'fifo')]);
// Deeper than the fd budget: a walk holds every directory it passes open.
const deep = join(root, ...Array<string>(MAX_OPEN_FDS + 4).fill('d'));
mkdirSync(deep, { recursive: true });
test.after.always(() => rmSync(base, { recursive: true, force: true }));

/** The grant's root, opened through the counted fd budget like the descriptor's. */
function start(): number {
  return openFd(root, O_RDONLY | O_DIRECTORY);
}

/** Where the walk of `path` ends: [host path of the parent, final name]; releases it. */
function walked(from: number, path: string): [string, string] {
  const w = walk(from, path);
  try {
    return [realpathSync(`/proc/self/fd/${w.dir}`), w.name];
  } finally {
    w.release();
  }
}

/** Opens `path` read-only below `from` and returns what it read (a file) or 'dir'. */
function opened(from: number, path: string): string {
  const fd = openBelow(from, path, O_RDONLY, false, undefined);
  try {
    return fstatSync(fd).isDirectory() ? 'dir' : readFileSync(fd, 'utf8');
  } finally {
    closeFd(fd);
  }
}

/**
 * Every fd slot is free again: a walk that needs all of them but the root's
 * succeeds, so no failed walk before it kept one (the per-worker count of
 * ./fds.ts, which a leak would exhaust).
 */
function allSlotsFree(from: number): boolean {
  const w = walk(
    from,
    `${Array<string>(MAX_OPEN_FDS - 1)
      .fill('d')
      .join('/')}/x`,
  );
  w.release();
  return true;
}

test('plain paths walk to the parent directory and name the last component; empty components and `.` are skipped', (t) => {
  const fd = start();
  t.deepEqual(walked(fd, 'a/b/f.txt'), [join(root, 'a', 'b'), 'f.txt']);
  t.deepEqual(walked(fd, 'a//b///./f.txt'), [join(root, 'a', 'b'), 'f.txt']);
  t.deepEqual(walked(fd, 'a/b'), [join(root, 'a'), 'b']);
  t.is(opened(fd, 'a/b/f.txt'), 'deep');
  t.is(opened(fd, 'a//b///f.txt'), 'deep');
  t.is(opened(fd, 'a/b'), 'dir');
  closeFd(fd);
});

test('a path naming the start itself ("", ".", "a/..") gives the start fd and name "."', (t) => {
  const fd = start();
  for (const p of ['', '.', './', 'a/..', 'a/b/../..']) {
    const w = walk(fd, p);
    t.is(w.dir, fd, p);
    t.is(w.name, '.', p);
    w.release();
    t.is(opened(fd, p), 'dir', p);
  }
  closeFd(fd);
});

test('`..` is resolved by name before anything is opened: inside it stays below the start, above it is not-permitted', (t) => {
  const fd = start();
  t.deepEqual(walked(fd, 'a/../a/b/f.txt'), [join(root, 'a', 'b'), 'f.txt']);
  t.is(opened(fd, 'a/b/../../f.txt'), 'top');
  // `..` after a symlink cancels the link's name: the link is never opened, so never followed.
  t.is(opened(fd, 'abs/../f.txt'), 'top');
  for (const p of ['..', '../grant/f.txt', 'a/../..', 'a/b/../../../outside/secret', './..']) {
    t.is(
      thrown(() => walk(fd, p)),
      'not-permitted',
      p,
    );
    t.is(
      thrown(() => openBelow(fd, p, O_RDONLY, false, undefined)),
      'not-permitted',
      p,
    );
  }
  closeFd(fd);
});

test('absolute paths are not-permitted, whatever they name', (t) => {
  const fd = start();
  for (const p of ['/', '/etc/passwd', join(root, 'f.txt'), '//f.txt']) {
    t.is(
      thrown(() => walk(fd, p)),
      'not-permitted',
      p,
    );
    t.is(
      thrown(() => atPath(fd, p, (q) => lstatSync(q))),
      'not-permitted',
      p,
    );
  }
  closeFd(fd);
});

test('a symlink leaving the grant (absolute or relative target) is never followed: not-directory on the way, loop at the end', (t) => {
  const fd = start();
  for (const link of ['abs', 'rel']) {
    // On the way: O_NOFOLLOW | O_DIRECTORY on a link fails ENOTDIR.
    t.is(
      thrown(() => walk(fd, `${link}/secret`)),
      'not-directory',
      link,
    );
    t.is(
      thrown(() => openBelow(fd, `${link}/secret`, O_RDONLY, false, undefined)),
      'not-directory',
      link,
    );
    // At the end: the open refuses the link itself, even with O_CREAT.
    t.is(
      thrown(() => openBelow(fd, link, O_RDONLY, false, undefined)),
      'loop',
      link,
    );
    t.is(
      thrown(() => openBelow(fd, link, O_WRONLY | O_CREAT, true, undefined)),
      'loop',
      link,
    );
    // The walk itself stops before the last name: an lstat there sees the link, not its target.
    t.true(
      atPath(fd, link, (p) => lstatSync(p).isSymbolicLink()),
      link,
    );
  }
  t.is(
    atPath(fd, 'rel', (p) => readlinkSync(p)),
    '../outside',
  );
  t.is(
    thrown(() => openBelow(fd, 'secret-link', O_RDONLY, false, undefined)),
    'loop',
  );
  t.is(readFileSync(join(outside, 'secret'), 'utf8'), 'secret');
  t.true(allSlotsFree(fd));
  closeFd(fd);
});

test('a symlink inside the grant is refused the same way: links are never followed, wherever they point', (t) => {
  const fd = start();
  t.is(
    thrown(() => walk(fd, 'inside-link/b/f.txt')),
    'not-directory',
  );
  t.is(
    thrown(() => openBelow(fd, 'inside-link', O_RDONLY, false, undefined)),
    'loop',
  );
  closeFd(fd);
});

test('symlink loops and long chains fail at once with the same codes (nothing is followed, so depth does not matter)', (t) => {
  const fd = start();
  for (const link of ['loop1', 'chain0', 'chain39']) {
    t.is(
      thrown(() => walk(fd, `${link}/x`)),
      'not-directory',
      link,
    );
    t.is(
      thrown(() => openBelow(fd, link, O_RDONLY, false, undefined)),
      'loop',
      link,
    );
  }
  t.true(allSlotsFree(fd));
  closeFd(fd);
});

test('a path through a file is not-directory; a trailing slash after a file is dropped by name and opens the file', (t) => {
  const fd = start();
  t.is(
    thrown(() => walk(fd, 'f.txt/x')),
    'not-directory',
  );
  t.is(
    thrown(() => openBelow(fd, 'a/b/f.txt/x', O_RDONLY, false, undefined)),
    'not-directory',
  );
  t.is(opened(fd, 'f.txt/'), 'top');
  closeFd(fd);
});

test('a FIFO is never opened (not-permitted, without blocking) nor walked through (not-directory)', (t) => {
  const fd = start();
  t.is(
    thrown(() => openBelow(fd, 'fifo', O_RDONLY, false, undefined)),
    'not-permitted',
  );
  t.is(
    thrown(() => walk(fd, 'fifo/x')),
    'not-directory',
  );
  closeFd(fd);
});

test('a missing component is no-entry; a missing last name opens only with allowMissing (O_CREAT)', (t) => {
  const fd = start();
  t.is(
    thrown(() => walk(fd, 'missing/f')),
    'no-entry',
  );
  t.is(
    thrown(() => openBelow(fd, 'missing', O_RDONLY, false, undefined)),
    'no-entry',
  );
  t.is(
    thrown(() => openBelow(fd, 'missing/new.txt', O_WRONLY | O_CREAT, true, undefined)),
    'no-entry',
  );
  const made = openBelow(fd, 'a/created.txt', O_WRONLY | O_CREAT, true, undefined);
  closeFd(made);
  t.true(statSync(join(root, 'a', 'created.txt')).isFile());
  closeFd(fd);
});

test('a create below a quota takes one file and a failed create gives it back', (t) => {
  const fd = start();
  const state = createQuotaState();
  const q = new Quota({ bytes: 1 << 20, files: 10 }, state);
  q.ensureCounted([]);
  const made = q.locked(() => openBelow(fd, 'quota-new.txt', O_WRONLY | O_CREAT, true, q));
  closeFd(made);
  t.is(quotaUsage(state).files, 1);
  t.is(
    thrown(() => q.locked(() => openBelow(fd, 'abs', O_WRONLY | O_CREAT, true, q))),
    'loop',
  );
  t.is(
    thrown(() => q.locked(() => openBelow(fd, 'fifo', O_WRONLY | O_CREAT, true, q))),
    'not-permitted',
  );
  t.is(quotaUsage(state).files, 1);
  closeFd(fd);
});

test('a NUL anywhere is invalid, before anything is opened', (t) => {
  const fd = start();
  for (const p of ['a\0b', 'a/b/f.txt\0', '\0']) {
    t.is(
      thrown(() => walk(fd, p)),
      'invalid',
      JSON.stringify(p),
    );
    t.is(
      thrown(() => openBelow(fd, p, O_RDONLY, false, undefined)),
      'invalid',
      JSON.stringify(p),
    );
  }
  closeFd(fd);
});

test('a component over 255 bytes is name-too-long; a long path whose components are short is only as long as what it names', (t) => {
  const fd = start();
  const long = 'x'.repeat(256);
  t.is(
    thrown(() => walk(fd, `${long}/y`)),
    'name-too-long',
  );
  t.is(
    thrown(() => openBelow(fd, long, O_RDONLY, false, undefined)),
    'name-too-long',
  );
  t.is(
    thrown(() => openBelow(fd, `a/${long}`, O_RDONLY, false, undefined)),
    'name-too-long',
  );
  // 12,000 characters, far past PATH_MAX, that name f.txt: each step opens one short name.
  t.is(opened(fd, `${'q/../'.repeat(2400)}f.txt`), 'top');
  t.is(
    thrown(() => walk(fd, `${'n/'.repeat(3000)}f`)),
    'no-entry',
  );
  closeFd(fd);
});

test('a walk deeper than the fd budget fails with insufficient-memory and gives back every fd it opened', (t) => {
  const fd = start();
  // The root holds one slot: MAX_OPEN_FDS - 1 directories fit, one more does not.
  t.notThrows(() => allSlotsFree(fd));
  const tooDeep = `${Array<string>(MAX_OPEN_FDS).fill('d').join('/')}/x`;
  t.is(
    thrown(() => walk(fd, tooDeep)),
    'insufficient-memory',
  );
  t.is(
    thrown(() => openBelow(fd, tooDeep, O_RDONLY, false, undefined)),
    'insufficient-memory',
  );
  t.true(allSlotsFree(fd));
  t.true(statSync(deep).isDirectory());
  closeFd(fd);
});
