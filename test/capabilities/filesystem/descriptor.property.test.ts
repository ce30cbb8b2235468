/**
 * Property tests of guest path resolution in the worker engine's filesystem
 * layer (src/capabilities/filesystem/preopens.ts), called directly: for any
 * guest path and any operation, what is reached lies inside the granted
 * folder, a read-only grant changes nothing, and nothing outside changes.
 */
import test from 'ava';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { createFilesystem } from '../../../src/capabilities/filesystem/preopens.ts';
import { splitGuestPath } from '../../../src/capabilities/filesystem/walk.ts';
import { baselineWasi } from '../../../src/capabilities/index.ts';
import { fuzz } from '../../helpers/fuzz.ts';

/** The WASI baseline (every family), as a worker builds it. */
const BASE = await baselineWasi();

const base = realpathSync(mkdtempSync(join(tmpdir(), 'airlock-fs-fuzz-')));
process.once('exit', () => rmSync(base, { recursive: true, force: true }));

// The folder outside every grant, reached only by a symlink from inside.
const outside = join(base, 'outside');
mkdirSync(join(outside, 'inner'), { recursive: true });
writeFileSync(join(outside, 'secret.txt'), 'secret');

const hasMkfifo = spawnSync('mkfifo', ['--version']).status === 0;

/**
 * Fills the granted folder afresh: files, folders, a symlink out, a symlink within, a FIFO. The folder
 * itself stays, so one preopen serves every run (a fresh one per run would also need its fds released,
 * as the worker engine does for each dropped instance).
 */
function world(root: string): string {
  for (const name of readdirSync(root)) rmSync(join(root, name), { recursive: true, force: true });
  mkdirSync(join(root, 'sub', 'deep'), { recursive: true });
  writeFileSync(join(root, 'f.txt'), 'hello');
  writeFileSync(join(root, 'sub', 'g.txt'), 'g');
  symlinkSync(outside, join(root, 'link-out'));
  symlinkSync(join(outside, 'secret.txt'), join(root, 'sub', 'file-out'));
  symlinkSync('sub', join(root, 'link-in'));
  if (hasMkfifo) spawnSync('mkfifo', [join(root, 'fifo')]);
  return root;
}

/** Every entry below `dir`: path, type, size, mtime, inode; symlinks as links (with their target). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    const st = lstatSync(join(dir, rel), { bigint: true });
    const kind = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
    out.set(rel, `${kind} ${st.size} ${st.mtimeNs} ${st.ino}`);
    if (kind === 'dir') for (const name of readdirSync(join(dir, rel))) walk(rel === '' ? name : `${rel}/${name}`);
  };
  walk('');
  return out;
}
const same = (a: Map<string, string>, b: Map<string, string>): boolean => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
const inodes = (snap: Map<string, string>): Set<string> => new Set([...snap.values()].filter((v) => !v.startsWith('link')).map((v) => v.split(' ')[3]!));

interface Desc {
  [k: string]: (...args: never[]) => unknown;
}
function preopen(root: string, access: 'read' | 'read-write'): Desc {
  const fs = createFilesystem([{ hostPath: root, mount: '/data', access }], BASE);
  return (fs['wasi:filesystem/preopens'] as { getDirectories(): [Desc, string][] }).getDirectories()[0]![0];
}

/** Guest paths: names that exist (symlinks and a FIFO among them), `.`, `..`, empty and repeated slashes, odd names. */
const segment = fc.oneof(
  {
    arbitrary: fc.constantFrom('sub', 'deep', 'f.txt', 'g.txt', 'link-out', 'link-in', 'file-out', 'fifo', 'secret.txt', 'inner', 'new', 'new.txt'),
    weight: 10,
  },
  { arbitrary: fc.constantFrom('..', '.', ''), weight: 4 },
  { arbitrary: fc.constantFrom('é', 'a\0b', ' ', '\\', 'x'.repeat(300), '%2e%2e', '...'), weight: 1 },
);
const guestPath = fc
  .tuple(fc.oneof({ arbitrary: fc.constant(false), weight: 9 }, { arbitrary: fc.constant(true), weight: 1 }), fc.array(segment, { minLength: 0, maxLength: 5 }))
  .map(([absolute, segs]) => (absolute ? '/' : '') + segs.join('/'));
const rarely = fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 });

test('splitGuestPath: absolute is not-permitted, NUL is invalid, climbing above the start is not-permitted, otherwise the normalised components', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.oneof(guestPath, fc.string({ unit: 'binary', maxLength: 30 })), (path) => {
        let got: string[] | string;
        try {
          got = splitGuestPath(path);
        } catch (e) {
          got = String(e);
        }
        // Node's own POSIX normalisation, as the independent reference.
        const n = posix.normalize(path);
        const want = path.startsWith('/')
          ? 'not-permitted'
          : path.includes('\0')
            ? 'invalid'
            : n === '..' || n.startsWith('../')
              ? 'not-permitted'
              : n.split('/').filter((s) => s !== '' && s !== '.');
        if (JSON.stringify(got) !== JSON.stringify(want))
          throw new Error(`${JSON.stringify(path)}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
        if (Array.isArray(got)) {
          if (got.some((s) => s === '' || s === '.' || s === '..')) throw new Error(`${JSON.stringify(path)}: components ${JSON.stringify(got)}`);
          if (JSON.stringify(splitGuestPath(got.join('/'))) !== JSON.stringify(got)) throw new Error(`${JSON.stringify(path)}: not idempotent`);
        }
      }),
      fuzz(1000),
    ),
  );
});

type Op =
  | { op: 'open'; path: string; create: boolean; directory: boolean; exclusive: boolean; truncate: boolean; read: boolean; write: boolean; mutate: boolean }
  | { op: 'stat' | 'readlink' | 'mkdir' | 'rmdir' | 'unlink' | 'settimes' | 'hash'; path: string }
  | { op: 'rename' | 'link' | 'symlink'; path: string; to: string };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('open' as const),
      path: guestPath,
      create: rarely,
      directory: rarely,
      exclusive: rarely,
      truncate: rarely,
      read: fc.boolean(),
      write: rarely,
      mutate: rarely,
    }),
    weight: 6,
  },
  fc.record({
    op: fc.constantFrom('stat' as const, 'readlink' as const, 'mkdir' as const, 'rmdir' as const, 'unlink' as const, 'settimes' as const, 'hash' as const),
    path: guestPath,
  }),
  fc.record({ op: fc.constantFrom('rename' as const, 'link' as const, 'symlink' as const), path: guestPath, to: guestPath }),
);

const WRITES = new Set(['mkdir', 'rmdir', 'unlink', 'settimes', 'rename', 'link', 'symlink']);
const ts = { tag: 'timestamp', val: { seconds: 1000n, nanoseconds: 0 } };

/** Runs one operation; returns what it opened (if anything), or the error code it failed with. */
function run(d: Desc, o: Op): { opened?: Desc; error?: unknown } {
  try {
    switch (o.op) {
      case 'open':
        return {
          opened: d.openAt!(
            {} as never,
            o.path as never,
            { create: o.create, directory: o.directory, exclusive: o.exclusive, truncate: o.truncate } as never,
            { read: o.read, write: o.write, mutateDirectory: o.mutate } as never,
          ) as Desc,
        };
      case 'stat':
        d.statAt!({} as never, o.path as never);
        break;
      case 'readlink':
        d.readlinkAt!(o.path as never);
        break;
      case 'mkdir':
        d.createDirectoryAt!(o.path as never);
        break;
      case 'rmdir':
        d.removeDirectoryAt!(o.path as never);
        break;
      case 'unlink':
        d.unlinkFileAt!(o.path as never);
        break;
      case 'settimes':
        d.setTimesAt!({} as never, o.path as never, ts as never, ts as never);
        break;
      case 'hash':
        d.metadataHashAt!({} as never, o.path as never);
        break;
      case 'rename':
        d.renameAt!(o.path as never, d as never, o.to as never);
        break;
      case 'link':
        d.linkAt!({} as never, o.path as never, d as never, o.to as never);
        break;
      case 'symlink':
        d.symlinkAt!(o.path as never, o.to as never);
        break;
      default:
        // 'write-through': a write on an opened file descriptor.
        d.write!(new Uint8Array([1]) as never, 0n as never);
    }
    return {};
  } catch (error) {
    return { error };
  }
}

for (const access of ['read', 'read-write'] as const) {
  test(`${access} grant: any sequence of operations on any guest paths reaches only what is inside the grant, fails only with a WASI error code, never follows or makes a symlink${access === 'read' ? ', never opens a file for writing nor writes through one, and changes nothing' : ''}`, (t) => {
    const outsideBefore = snapshot(outside);
    const root = mkdtempSync(join(base, 'root-'));
    const d = preopen(root, access);
    let opened = 0;
    t.notThrows(() =>
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 6 }), (ops) => {
          world(root);
          const before = snapshot(root);
          for (const o of ops) {
            const r = run(d, o);
            if (r.error !== undefined && typeof r.error !== 'string') throw new Error(`${JSON.stringify(o)} threw ${String(r.error)}, not a WASI error code`);
            const writes = WRITES.has(o.op) || (o.op === 'open' && (o.write || o.mutate || o.create || o.truncate));
            if (access === 'read' && writes && r.error !== 'read-only')
              throw new Error(`${JSON.stringify(o)} on a read-only grant: ${String(r.error ?? 'succeeded')}`);
            const now = snapshot(root);
            if (r.opened !== undefined) {
              opened++;
              const ino = String((r.opened.metadataHash!() as { lower: bigint }).lower);
              const type = r.opened.getType!();
              if (!inodes(now).has(ino) || (type !== 'directory' && type !== 'regular-file'))
                throw new Error(`${JSON.stringify(o)} opened ${type} inode ${ino}, not inside the grant`);
              if (access === 'read' && type === 'regular-file') {
                const w = run(r.opened, { op: 'write-through' } as unknown as Op);
                if (w.error !== 'read-only') throw new Error(`${JSON.stringify(o)}: writing through what it opened gave ${String(w.error ?? 'success')}`);
              }
              // Resolution is idempotent: the normalised path opens the same thing.
              const again = d.openAt!({} as never, splitGuestPath(o.path).join('/') as never, {} as never, {} as never) as Desc;
              if (String((again.metadataHash!() as { lower: bigint }).lower) !== ino)
                throw new Error(`${JSON.stringify(o)}: the normalised path opens something else`);
              for (const x of [r.opened, again]) (x as unknown as { [Symbol.dispose](): void })[Symbol.dispose]();
            }
            if (access === 'read' && !same(before, now)) throw new Error(`${JSON.stringify(o)} changed a read-only grant`);
            // By inode: a rename may move a symlink that was there, which is no new one.
            const linkInodes = new Set([...before.values()].filter((v) => v.startsWith('link')).map((v) => v.split(' ')[3]));
            const links = [...now].filter(([, v]) => v.startsWith('link') && !linkInodes.has(v.split(' ')[3]));
            if (links.length > 0) throw new Error(`${JSON.stringify(o)} made a symlink: ${links[0]![0]}`);
            if (!same(outsideBefore, snapshot(outside))) throw new Error(`${JSON.stringify(o)} changed the folder outside the grant`);
          }
        }),
        fuzz(150),
      ),
    );
    t.true(opened > 5, `${opened} opens succeeded`);
  });
}
