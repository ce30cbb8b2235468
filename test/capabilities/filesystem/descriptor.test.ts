/** The enforcing layer called directly, for operations the C guest cannot reach through wasi-libc. */
import test from 'ava';
import { thrown } from './helpers.ts';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFilesystem } from '../../../src/capabilities/filesystem/preopens.ts';
import { splitGuestPath } from '../../../src/capabilities/filesystem/walk.ts';
import { baselineWasi } from '../../../src/capabilities/index.ts';

/** The WASI baseline (every family), as a worker builds it. */
const BASE = await baselineWasi();

interface Desc {
  openAt(pf: object, path: string, of: object, df: object): Desc;
  [k: string]: (...args: never[]) => unknown;
}

const root = realpathSync(mkdtempSync(join(tmpdir(), 'airlock-desc-')));
mkdirSync(join(root, 'sub'));
writeFileSync(join(root, 'f.txt'), 'hello');
const old = statSync(join(root, 'f.txt')).mtimeMs;

function preopen(access: 'read' | 'read-write'): Desc {
  const fs = createFilesystem([{ hostPath: root, mount: '/data', access }], BASE);
  const dirs = (fs['wasi:filesystem/preopens'] as { getDirectories(): [Desc, string][] }).getDirectories();
  t0(dirs.length === 1 && dirs[0]![1] === '/data');
  return dirs[0]![0];
}
function t0(ok: boolean): void {
  if (!ok) throw new Error('bad preopen list');
}
test('every mutating call through a read-only preopen fails with read-only', (t) => {
  const d = preopen('read');
  const file = d.openAt({}, 'f.txt', {}, { read: true });
  const ts = { tag: 'timestamp', val: { seconds: 1n, nanoseconds: 0 } };
  const calls: [string, () => unknown][] = [
    ['openAt write', () => d.openAt({}, 'f.txt', {}, { write: true })],
    ['openAt create', () => d.openAt({}, 'n.txt', { create: true }, { read: true })],
    ['openAt truncate', () => d.openAt({}, 'f.txt', { truncate: true }, { read: true })],
    ['openAt mutateDirectory', () => d.openAt({}, 'sub', { directory: true }, { read: true, mutateDirectory: true })],
    ['createDirectoryAt', () => d.createDirectoryAt!('x' as never)],
    ['removeDirectoryAt', () => d.removeDirectoryAt!('sub' as never)],
    ['unlinkFileAt', () => d.unlinkFileAt!('f.txt' as never)],
    ['renameAt', () => d.renameAt!('f.txt' as never, d as never, 'g.txt' as never)],
    ['linkAt', () => d.linkAt!({} as never, 'f.txt' as never, d as never, 'h.txt' as never)],
    ['symlinkAt', () => d.symlinkAt!('f.txt' as never, 's' as never)],
    ['setTimesAt', () => d.setTimesAt!({} as never, 'f.txt' as never, ts as never, ts as never)],
    ['setTimes', () => file.setTimes!(ts as never, ts as never)],
    ['setSize', () => file.setSize!(0n as never)],
    ['write', () => file.write!(new Uint8Array(1) as never, 0n as never)],
    ['writeViaStream', () => file.writeViaStream!(0n as never)],
    ['appendViaStream', () => file.appendViaStream!()],
  ];
  for (const [name, fn] of calls) t.is(thrown(fn), 'read-only', name);
  t.is(readFileSync(join(root, 'f.txt'), 'utf8'), 'hello');
  t.is(statSync(join(root, 'f.txt')).mtimeMs, old);
});

test('a read-only preopen still reads, stats and lists', (t) => {
  const d = preopen('read');
  const file = d.openAt({}, 'f.txt', {}, { read: true });
  const [bytes, eof] = file.read!(100n as never, 0n as never) as [Uint8Array, boolean];
  t.is(Buffer.from(bytes).toString(), 'hello');
  t.true(eof);
  t.is((d.statAt!({} as never, 'f.txt' as never) as { type: string }).type, 'regular-file');
  const names: string[] = [];
  const stream = d.readDirectory!() as { readDirectoryEntry(): { name: string } | undefined };
  for (let e = stream.readDirectoryEntry(); e; e = stream.readDirectoryEntry()) names.push(e.name);
  t.deepEqual(names.sort(), ['f.txt', 'sub']);
});

test('set-times and set-size work through a read-write preopen', (t) => {
  const d = preopen('read-write');
  const file = d.openAt({}, 'f.txt', {}, { read: true, write: true });
  file.setTimes!(
    { tag: 'timestamp', val: { seconds: 1000n, nanoseconds: 0 } } as never,
    { tag: 'timestamp', val: { seconds: 1000n, nanoseconds: 0 } } as never,
  );
  t.is(statSync(join(root, 'f.txt')).mtimeMs, 1_000_000);
});

test('guest paths are split without ever climbing above the descriptor', (t) => {
  t.deepEqual(splitGuestPath('a/./b//c/'), ['a', 'b', 'c']);
  t.deepEqual(splitGuestPath('a/../b'), ['b']);
  t.deepEqual(splitGuestPath('.'), []);
  t.is(
    thrown(() => splitGuestPath('../x')),
    'not-permitted',
  );
  t.is(
    thrown(() => splitGuestPath('a/../../x')),
    'not-permitted',
  );
  t.is(
    thrown(() => splitGuestPath('/etc/passwd')),
    'not-permitted',
  );
  t.is(
    thrown(() => splitGuestPath('a\0b')),
    'invalid',
  );
});

test('a hard link to a symlink is refused (it would be a new symlink); a link to a file is made', (t) => {
  const d = preopen('read-write');
  symlinkSync('../outside', join(root, 'sub', 'planted'));
  t.is(
    thrown(() => d.linkAt!({} as never, 'sub/planted' as never, d as never, 'copy' as never)),
    'not-permitted',
  );
  t.false(lstatExists(join(root, 'copy')), 'no link was made');
  d.linkAt!({} as never, 'f.txt' as never, d as never, 'f-link.txt' as never);
  t.is(statSync(join(root, 'f-link.txt')).ino, statSync(join(root, 'f.txt')).ino);
});

function lstatExists(p: string): boolean {
  return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}

test('releasing an instance closes its root and every descriptor the guest left open, so a fast loop of instances never runs out of fds', (t) => {
  // Each instance opens 3 fds (root, its preopen, a file), counted against MAX_OPEN_FDS (1024) per thread:
  // without the release the loop fails with insufficient-memory long before the end. (The process's fd table
  // is not checked: other test files run in this process.)
  for (let i = 0; i < 1500; i++) {
    const releases: (() => void)[] = [];
    const fs = createFilesystem([{ hostPath: root, mount: '/data', access: 'read' }], BASE, (fn) => releases.push(fn));
    const d = (fs['wasi:filesystem/preopens'] as { getDirectories(): [Desc, string][] }).getDirectories()[0]![0];
    d.openAt({}, 'f.txt', {}, { read: true });
    t.is(releases.length, 1);
    releases[0]!();
  }
  t.pass();
});

test('a guest listing a folder of 100,000 names holds one batch of them on the host, not the whole listing', (t) => {
  const big = realpathSync(mkdtempSync(join(tmpdir(), 'airlock-desc-list-')));
  t.teardown(() => rmSync(big, { recursive: true, force: true }));
  const pad = 'n'.repeat(40);
  for (let i = 0; i < 100_000; i++) writeFileSync(join(big, `${pad}-${i}`), '');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const fs = createFilesystem([{ hostPath: big, mount: '/big', access: 'read' }], BASE);
  const [[d]] = (fs['wasi:filesystem/preopens'] as { getDirectories(): [Desc, string][] }).getDirectories() as [[Desc, string]];
  gc();
  const before = process.memoryUsage().heapUsed;
  const stream = d.readDirectory!() as { readDirectoryEntry(): { name: string } | undefined };
  t.truthy(stream.readDirectoryEntry());
  gc();
  const held = process.memoryUsage().heapUsed - before;
  // The whole listing read at once held ~11 MB here.
  t.true(held < 2 * 1024 * 1024, `${held} bytes held by a listing stream after one entry`);
  let n = 1;
  while (stream.readDirectoryEntry() !== undefined) n++;
  t.is(n, 100_000, 'every name is still listed, batch by batch');
});

test("a listing stream holds an fd of the plugin's bound until it ends or is dropped", (t) => {
  const d = preopen('read');
  const streams: { readDirectoryEntry(): unknown; [Symbol.dispose](): void }[] = [];
  // Each open listing takes one of the worker's MAX_OPEN_FDS, like an open file: past it the guest gets an error.
  t.is(
    thrown(() => {
      for (let i = 0; i < 5000; i++) streams.push(d.readDirectory!() as never);
    }),
    'insufficient-memory',
  );
  for (const s of streams) s[Symbol.dispose]();
  const again = d.readDirectory!() as { readDirectoryEntry(): { name: string } | undefined };
  const names: string[] = [];
  for (let e = again.readDirectoryEntry(); e; e = again.readDirectoryEntry()) names.push(e.name);
  t.true(names.includes('f.txt'));
});
