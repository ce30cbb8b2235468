/**
 * Airlock's own wasi:filesystem, in front of the host filesystem. It does not
 * use preview2-shim's filesystem (no read-only mode; it resolves symlinks by
 * path and then opens by path, a check-then-use race; opening a FIFO blocks
 * its IO thread so hard that worker.terminate() never returns).
 *
 * Every descriptor holds a real fd. Paths are resolved one component at a
 * time relative to an fd, through `/proc/self/fd/<fd>/<name>` (Linux's
 * openat: the parent is the already-open directory, not a path that can be
 * swapped), each component opened with O_NOFOLLOW, so:
 * - `..` that leaves the preopen, and absolute paths, fail (`not-permitted`);
 * - symlinks are never followed, pre-existing or not (`loop`), and the guest
 *   cannot create them (`not-permitted`); swapping a directory for a symlink
 *   during an open hits O_NOFOLLOW on that component;
 * - only regular files and directories open: the type is checked with lstat
 *   before the open and fstat after it, and the open itself is O_NONBLOCK, so
 *   a FIFO never blocks (`not-permitted`);
 * - a descriptor from a read-only grant refuses every write, create,
 *   truncate, unlink, rename, link, mkdir, symlink and set-times
 *   (`read-only`); rename and link need both sides writable;
 * - read-write grants share one disk quota (./quota.ts): a write past
 *   `resources.disk` fails with `insufficient-space` (ENOSPC) after writing
 *   what fits, a create past `resources.files` with `quota` (EDQUOT).
 */
import {
  constants,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  futimesSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  readSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeSync,
  type BigIntStats,
  type Dirent,
} from 'node:fs';
import type { FilesystemGrant } from '../../grants/types.ts';
import { createSinkStreamClass, readyPollable, shimStreams, STREAM_CLOSED } from '../shim.ts';
import type { WasiImports } from '../types.ts';
import { wasiCode } from './errors.ts';
import { closeFd, openFd } from './fds.ts';
import { Quota, type QuotaLimits } from './quota.ts';
import { openGrantRoot, type FdOps } from './verify.ts';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
const O_CLOEXEC = 0o2000000;

/** Largest single read or write the guest gets per call into us. */
const MAX_IO = 1 << 20;

type DescriptorType = 'directory' | 'regular-file';

interface DescriptorFlags {
  read?: boolean;
  write?: boolean;
  mutateDirectory?: boolean;
  [k: string]: boolean | undefined;
}
interface PathFlags {
  symlinkFollow?: boolean;
}
interface OpenFlags {
  create?: boolean;
  directory?: boolean;
  exclusive?: boolean;
  truncate?: boolean;
}
type NewTimestamp = { tag: 'no-change' } | { tag: 'now' } | { tag: 'timestamp'; val: { seconds: bigint; nanoseconds: number } };

/** The walk to a grant's root counts against MAX_OPEN_FDS like every other open. */
const FD_OPS: FdOps = { open: (p, f) => openFd(p, f), close: closeFd };

const fdPath = (fd: number, name?: string): string => (name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`);

function typeOf(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (st.isFile()) return 'regular-file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symbolic-link';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  return 'unknown';
}

function toDatetime(ns: bigint): { seconds: bigint; nanoseconds: number } {
  return { seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) };
}

function statOf(st: BigIntStats): Record<string, unknown> {
  return {
    type: typeOf(st),
    linkCount: st.nlink,
    size: st.size,
    dataAccessTimestamp: toDatetime(st.atimeNs),
    dataModificationTimestamp: toDatetime(st.mtimeNs),
    statusChangeTimestamp: toDatetime(st.ctimeNs),
  };
}

/** Normalizes a guest path into components; `..` may not climb above the descriptor. */
export function splitGuestPath(path: string): string[] {
  if (path.startsWith('/')) throw 'not-permitted';
  if (path.includes('\0')) throw 'invalid';
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.pop() === undefined) throw 'not-permitted';
      continue;
    }
    out.push(seg);
  }
  return out;
}

const registry = new FinalizationRegistry<number>((fd) => {
  try {
    closeFd(fd);
  } catch {
    /* already closed */
  }
});

/** The disk quota of the read-write grants: limits, and the plugin's shared counters (./quota.ts). */
export interface FilesystemQuota extends QuotaLimits {
  /** Shared by every instance of the plugin; absent: this instance counts alone. */
  state?: SharedArrayBuffer;
}

/**
 * Builds the wasi:filesystem/types and /preopens interfaces for `grants`.
 * `onRelease`, when given, gets a function that closes every fd these
 * interfaces hold (roots and the guest's open descriptors), for the engine to
 * call when it drops the instance; otherwise they close when collected.
 * `quota`, when given, bounds what the read-write grants may hold.
 */
export function createFilesystem(grants: FilesystemGrant[], base: WasiImports, onRelease?: (fn: () => void) => void, quotaOptions?: FilesystemQuota): WasiImports {
  const quota = quotaOptions === undefined ? undefined : new Quota({ bytes: quotaOptions.bytes, files: quotaOptions.files }, quotaOptions.state);
  const { InputStream } = shimStreams(base);
  const IoError = (base['wasi:io/error'] as unknown as { Error: new (payload: unknown) => Error }).Error;
  const failed = (e: unknown) => ({ tag: 'last-operation-failed', val: new IoError({ code: wasiCode(e), message: String(e) }) });

  class FileInputStream extends InputStream {
    #fd: number;
    #pos: bigint;
    constructor(fd: number, pos: bigint) {
      super();
      this.#fd = fd;
      this.#pos = pos;
    }
    read(len: bigint): Uint8Array {
      const n = Number(len > BigInt(MAX_IO) ? BigInt(MAX_IO) : len);
      const buf = new Uint8Array(n);
      let got: number;
      try {
        got = readSync(this.#fd, buf, 0, n, this.#pos);
      } catch (e) {
        throw failed(e);
      }
      if (got === 0 && n > 0) throw STREAM_CLOSED;
      this.#pos += BigInt(got);
      return buf.subarray(0, got);
    }
    blockingRead(len: bigint): Uint8Array {
      return this.read(len);
    }
    skip(len: bigint): bigint {
      return BigInt(this.read(len).length);
    }
    blockingSkip(len: bigint): bigint {
      return this.skip(len);
    }
    subscribe(): unknown {
      return readyPollable(base);
    }
  }

  /** Descriptors the guest holds open, closed all at once by the release below. */
  const live = new Set<Descriptor>();
  const SinkOutputStream = createSinkStreamClass(base, MAX_IO);
  /** Writes at a position (advancing it) or, for `append`, at the file's end each time. */
  const fileOutputStream = (fd: number, start: bigint | 'append', q: Quota | undefined): object => {
    let pos = start;
    return new SinkOutputStream((buf) => {
      try {
        const written = guardedWrite(q, fd, buf, pos, (at) => {
          let off = 0;
          while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, at + off);
          return off;
        });
        if (pos !== 'append') pos += BigInt(written);
        // What fits is written; the rest fails like a full disk.
        if (written < buf.length) throw 'insufficient-space';
      } catch (e) {
        throw failed(e);
      }
    });
  };

  /**
   * Writes at `pos` (or at the end, for 'append') under the quota: charges the
   * growth of the file first, cuts the write to what fits, and refunds what
   * the write did not use. `write(at, n)` writes `n` bytes at `at`, returns how many.
   */
  function guardedWrite(q: Quota | undefined, fd: number, buf: Uint8Array, pos: bigint | 'append', write: (at: number, n: number) => number): number {
    if (q === undefined) return write(pos === 'append' ? Number(fstatSync(fd, { bigint: true }).size) : Number(pos), buf.length);
    return q.locked(() => {
      const before = Number(fstatSync(fd, { bigint: true }).size);
      const at = pos === 'append' ? before : Number(pos);
      const growth = Math.max(0, at + buf.length - before);
      const got = q.takeBytes(growth);
      const n = buf.length - (growth - got);
      if (n <= 0) {
        q.freeBytes(got);
        throw 'insufficient-space';
      }
      let written: number;
      try {
        written = write(at, n);
      } catch (e) {
        // How much landed is unknown: measure it.
        q.freeBytes(got - Math.max(0, Number(fstatSync(fd, { bigint: true }).size) - before));
        throw e;
      }
      // Under the lock no other write of this plugin moved the end: it is where this one left it.
      q.freeBytes(got - Math.max(0, at + written - before));
      return written;
    });
  }

  class DirectoryEntryStream {
    #entries: Dirent[];
    #i = 0;
    constructor(entries: Dirent[]) {
      this.#entries = entries;
    }
    readDirectoryEntry(): { type: string; name: string } | undefined {
      const e = this.#entries[this.#i++];
      return e === undefined ? undefined : { type: typeOf(e), name: e.name };
    }
  }

  class Descriptor {
    #fd: number;
    #type: DescriptorType;
    #writable: boolean;
    #flags: DescriptorFlags;
    /** The plugin's disk quota; set on descriptors of read-write grants. */
    #quota: Quota | undefined;
    #closed = false;

    constructor(fd: number, type: DescriptorType, writable: boolean, flags: DescriptorFlags) {
      this.#fd = fd;
      this.#type = type;
      this.#writable = writable;
      this.#flags = flags;
      this.#quota = writable ? quota : undefined;
      registry.register(this, fd, this);
      live.add(this);
    }

    [Symbol.dispose](): void {
      if (this.#closed) return;
      this.#closed = true;
      live.delete(this);
      registry.unregister(this);
      try {
        closeFd(this.#fd);
      } catch {
        /* already closed */
      }
    }

    #mustWrite(): void {
      if (!this.#writable) throw 'read-only';
    }
    #mustDir(): void {
      if (this.#type !== 'directory') throw 'not-directory';
    }
    #mustFile(): void {
      if (this.#type !== 'regular-file') throw 'is-directory';
    }

    /**
     * Resolves `path` to [parent directory fd, final name] walking one
     * component at a time with O_NOFOLLOW. The returned fd must be released
     * with `release` (it may be this descriptor's own fd). A path that names
     * this directory itself gives name '.'.
     */
    #walk(path: string): { dir: number; name: string; release: () => void } {
      this.#mustDir();
      const parts = splitGuestPath(path);
      const name = parts.pop() ?? '.';
      let cur = this.#fd;
      const opened: number[] = [];
      const release = (): void => {
        for (const fd of opened) closeFd(fd);
      };
      try {
        for (const seg of parts) {
          cur = openFd(fdPath(cur, seg), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          opened.push(cur);
        }
      } catch (e) {
        release();
        throw wasiCode(e);
      }
      return { dir: cur, name, release };
    }

    #at<T>(path: string, fn: (p: string) => T): T {
      const w = this.#walk(path);
      try {
        return fn(fdPath(w.dir, w.name));
      } catch (e) {
        throw wasiCode(e);
      } finally {
        w.release();
      }
    }

    readViaStream(offset: bigint): object {
      this.#mustFile();
      if (!this.#flags.read) throw 'bad-descriptor';
      return new FileInputStream(this.#fd, offset);
    }
    writeViaStream(offset: bigint): object {
      this.#mustFile();
      this.#mustWrite();
      if (!this.#flags.write) throw 'bad-descriptor';
      return fileOutputStream(this.#fd, offset, this.#quota);
    }
    appendViaStream(): object {
      this.#mustFile();
      this.#mustWrite();
      if (!this.#flags.write) throw 'bad-descriptor';
      return fileOutputStream(this.#fd, 'append', this.#quota);
    }
    advise(): void {}
    syncData(): void {
      if (this.#writable && this.#type === 'regular-file') fdatasyncSync(this.#fd);
    }
    sync(): void {
      if (this.#writable && this.#type === 'regular-file') fsyncSync(this.#fd);
    }
    getFlags(): DescriptorFlags {
      return { ...this.#flags };
    }
    getType(): DescriptorType {
      return this.#type;
    }
    setSize(size: bigint): void {
      this.#mustFile();
      this.#mustWrite();
      const resize = (): void => {
        try {
          ftruncateSync(this.#fd, Number(size));
        } catch (e) {
          throw wasiCode(e);
        }
      };
      const q = this.#quota;
      if (q === undefined) return resize();
      q.locked(() => {
        const before = Number(fstatSync(this.#fd, { bigint: true }).size);
        const growth = Math.max(0, Number(size) - before);
        const got = q.takeBytes(growth);
        if (got < growth) {
          q.freeBytes(got);
          throw 'insufficient-space';
        }
        try {
          resize();
        } finally {
          const after = Number(fstatSync(this.#fd, { bigint: true }).size);
          if (after >= before) q.freeBytes(got - (after - before));
          else q.freeBytes(got + before - after);
        }
      });
    }
    setTimes(atime: NewTimestamp, mtime: NewTimestamp): void {
      this.#mustWrite();
      const st = fstatSync(this.#fd, { bigint: true });
      try {
        futimesSync(this.#fd, seconds(atime, st.atimeNs), seconds(mtime, st.mtimeNs));
      } catch (e) {
        throw wasiCode(e);
      }
    }
    read(length: bigint, offset: bigint): [Uint8Array, boolean] {
      this.#mustFile();
      if (!this.#flags.read) throw 'bad-descriptor';
      const n = Number(length > BigInt(MAX_IO) ? BigInt(MAX_IO) : length);
      const buf = new Uint8Array(n);
      try {
        const got = readSync(this.#fd, buf, 0, n, offset);
        return [buf.subarray(0, got), got < n];
      } catch (e) {
        throw wasiCode(e);
      }
    }
    write(buffer: Uint8Array, offset: bigint): bigint {
      this.#mustFile();
      this.#mustWrite();
      if (!this.#flags.write) throw 'bad-descriptor';
      try {
        return BigInt(guardedWrite(this.#quota, this.#fd, buffer, offset, (at, n) => writeSync(this.#fd, buffer, 0, n, at)));
      } catch (e) {
        throw wasiCode(e);
      }
    }
    readDirectory(): DirectoryEntryStream {
      this.#mustDir();
      try {
        return new DirectoryEntryStream(readdirSync(fdPath(this.#fd), { withFileTypes: true }));
      } catch (e) {
        throw wasiCode(e);
      }
    }
    stat(): Record<string, unknown> {
      return statOf(fstatSync(this.#fd, { bigint: true }));
    }
    statAt(_flags: PathFlags, path: string): Record<string, unknown> {
      // Never follows a final symlink either: it reports the link itself.
      return this.#at(path, (p) => statOf(lstatSync(p, { bigint: true })));
    }
    setTimesAt(_flags: PathFlags, path: string, atime: NewTimestamp, mtime: NewTimestamp): void {
      this.#mustWrite();
      const fd = this.#openChecked(path, O_RDONLY);
      try {
        const st = fstatSync(fd, { bigint: true });
        futimesSync(fd, seconds(atime, st.atimeNs), seconds(mtime, st.mtimeNs));
      } catch (e) {
        throw wasiCode(e);
      } finally {
        closeFd(fd);
      }
    }
    linkAt(_flags: PathFlags, oldPath: string, newDescriptor: Descriptor, newPath: string): void {
      this.#mustWrite();
      if (!(newDescriptor instanceof Descriptor)) throw 'bad-descriptor';
      newDescriptor.#mustWrite();
      this.#at(oldPath, (from) => {
        // A hard link to a symlink is a new symlink (moved elsewhere, its relative target means
        // another place); symlinks are never made here, see symlinkAt.
        if (lstatSync(from).isSymbolicLink()) throw 'not-permitted';
        newDescriptor.#at(newPath, (to) => this.#addsEntry(() => linkSync(from, to)));
      });
    }
    createDirectoryAt(path: string): void {
      this.#mustWrite();
      this.#at(path, (p) => this.#addsEntry(() => mkdirSync(p)));
    }
    /** Runs `make` (which adds one entry) holding one more file of the quota. */
    #addsEntry(make: () => void): void {
      const q = this.#quota;
      if (q === undefined) return make();
      q.locked(() => {
        q.takeFile();
        try {
          make();
        } catch (e) {
          q.freeFile();
          throw e;
        }
      });
    }
    /** Runs `remove` (which removes the entry at `p`) and frees what it held. */
    #removesEntry(p: string, remove: () => void): void {
      const q = this.#quota;
      if (q === undefined) return remove();
      q.locked(() => {
        const st = lstatSync(p, { bigint: true });
        remove();
        q.freeFile();
        // Another hard link keeps the bytes.
        if (st.isFile() && st.nlink === 1n) q.freeBytes(Number(st.size));
      });
    }
    readlinkAt(path: string): string {
      return this.#at(path, (p) => readlinkSync(p));
    }
    removeDirectoryAt(path: string): void {
      this.#mustWrite();
      this.#at(path, (p) => this.#removesEntry(p, () => rmdirSync(p)));
    }
    renameAt(oldPath: string, newDescriptor: Descriptor, newPath: string): void {
      this.#mustWrite();
      if (!(newDescriptor instanceof Descriptor)) throw 'bad-descriptor';
      newDescriptor.#mustWrite();
      this.#at(oldPath, (from) =>
        newDescriptor.#at(newPath, (to) => {
          const q = this.#quota;
          if (q === undefined) return renameSync(from, to);
          // Both sides are read-write grants of this plugin, so one quota: only a replaced target frees anything.
          q.locked(() => {
            const a = lstatSync(from, { bigint: true });
            const b = lstatSync(to, { bigint: true, throwIfNoEntry: false });
            renameSync(from, to);
            if (b === undefined || (a.dev === b.dev && a.ino === b.ino)) return;
            q.freeFile();
            if (b.isFile() && b.nlink === 1n) q.freeBytes(Number(b.size));
          });
        }),
      );
    }
    symlinkAt(): void {
      // Symlinks are never followed, and never made: one left in a writable
      // grant could mislead whatever on the host reads that folder next.
      this.#mustWrite();
      throw 'not-permitted';
    }
    unlinkFileAt(path: string): void {
      this.#mustWrite();
      this.#at(path, (p) => this.#removesEntry(p, () => unlinkSync(p)));
    }
    isSameObject(other: Descriptor): boolean {
      if (!(other instanceof Descriptor)) return false;
      const a = fstatSync(this.#fd, { bigint: true });
      const b = fstatSync(other.#fd, { bigint: true });
      return a.dev === b.dev && a.ino === b.ino;
    }
    metadataHash(): { upper: bigint; lower: bigint } {
      const st = fstatSync(this.#fd, { bigint: true });
      return { upper: st.dev ^ st.mtimeNs, lower: st.ino };
    }
    metadataHashAt(_flags: PathFlags, path: string): { upper: bigint; lower: bigint } {
      return this.#at(path, (p) => {
        const st = lstatSync(p, { bigint: true });
        return { upper: st.dev ^ st.mtimeNs, lower: st.ino };
      });
    }

    /**
     * Opens `path` below this directory: type-checked before (lstat: no
     * symlink, FIFO, socket or device is ever opened) and after (fstat: the
     * thing opened is the thing checked), non-blocking, never following.
     */
    #openChecked(path: string, flags: number, allowMissing = false): number {
      const q = this.#quota;
      // Creating or truncating changes what the grant holds: measured under the quota lock.
      if (q !== undefined && (flags & (O_CREAT | O_TRUNC)) !== 0) return q.locked(() => this.#openCheckedIn(path, flags, allowMissing, q));
      return this.#openCheckedIn(path, flags, allowMissing, undefined);
    }
    #openCheckedIn(path: string, flags: number, allowMissing: boolean, q: Quota | undefined): number {
      const w = this.#walk(path);
      try {
        const p = fdPath(w.dir, w.name);
        let pre: string | undefined;
        let preSize = 0;
        try {
          const st = lstatSync(p);
          pre = typeOf(st);
          preSize = st.size;
        } catch (e) {
          if (!(allowMissing && (e as { code?: string }).code === 'ENOENT')) throw e;
        }
        if (pre === 'symbolic-link') throw 'loop';
        if (pre !== undefined && pre !== 'regular-file' && pre !== 'directory') throw 'not-permitted';
        // A new file takes one entry of the quota (refunded if the open fails).
        const creates = q !== undefined && pre === undefined;
        if (creates) q.takeFile();
        let fd: number;
        try {
          fd = openFd(p, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644);
        } catch (e) {
          if (creates) q.freeFile();
          throw e;
        }
        const st = fstatSync(fd);
        const post = typeOf(st);
        // O_TRUNC freed what the file held.
        if (q !== undefined && pre === 'regular-file' && post === 'regular-file' && st.size < preSize) q.freeBytes(preSize - st.size);
        if (post !== 'regular-file' && post !== 'directory') {
          closeFd(fd);
          throw 'not-permitted';
        }
        return fd;
      } catch (e) {
        throw wasiCode(e);
      } finally {
        w.release();
      }
    }

    openAt(_pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): Descriptor {
      this.#mustDir();
      const wantsWrite = Boolean(flags.write || flags.mutateDirectory || openFlags.create || openFlags.truncate);
      if (wantsWrite && !this.#writable) throw 'read-only';
      let mode = flags.write ? (flags.read ? O_RDWR : O_WRONLY) : O_RDONLY;
      if (openFlags.create) mode |= O_CREAT;
      if (openFlags.exclusive) mode |= O_EXCL;
      if (openFlags.truncate) mode |= O_TRUNC;
      if (openFlags.directory) mode |= O_DIRECTORY;
      const fd = this.#openChecked(path, mode, Boolean(openFlags.create));
      const type = fstatSync(fd).isDirectory() ? 'directory' : 'regular-file';
      if (type === 'directory' && flags.write) {
        closeFd(fd);
        throw 'is-directory';
      }
      return new Descriptor(fd, type, this.#writable, { ...flags });
    }
  }

  function seconds(t: NewTimestamp, current: bigint): number {
    if (t.tag === 'now') return Date.now() / 1000;
    if (t.tag === 'timestamp') return Number(t.val.seconds) + t.val.nanoseconds / 1e9;
    return Number(current) / 1e9;
  }

  // One root fd per grant, opened once per instance; every getDirectories()
  // hands out fresh descriptors re-opened from it (a dup), because the guest
  // owns what it gets and dropping it closes that fd. The root is opened
  // without following any symlink on its path: a granted folder swapped for a
  // symlink since the grants were computed fails this instance with
  // permission-denied instead of opening the link's target (./verify.ts).
  const opened: number[] = [];
  let roots: { fd: number; writable: boolean; mount: string }[];
  try {
    roots = grants.map((g) => {
      const fd = openGrantRoot(g, O_RDONLY | O_DIRECTORY, FD_OPS);
      opened.push(fd);
      return { fd, writable: g.access === 'read-write', mount: g.mount };
    });
  } catch (e) {
    for (const fd of opened) closeFd(fd);
    throw e;
  }
  // What the read-write grants already hold counts against the quota: measured once per plugin.
  if (quota !== undefined) quota.ensureCounted(roots.filter((r) => r.writable).map((r) => fdPath(r.fd)));
  const getDirectories = (): [Descriptor, string][] =>
    roots.map((r) => {
      const fd = openFd(fdPath(r.fd), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      return [new Descriptor(fd, 'directory', r.writable, { read: true, mutateDirectory: r.writable }), r.mount];
    });
  const holder = { roots };
  for (const r of roots) registry.register(holder, r.fd, holder);
  onRelease?.(() => {
    for (const d of [...live]) d[Symbol.dispose]();
    registry.unregister(holder);
    for (const r of roots) {
      try {
        closeFd(r.fd);
      } catch {
        /* already closed */
      }
    }
  });

  return {
    'wasi:filesystem/types': {
      Descriptor,
      DirectoryEntryStream,
      filesystemErrorCode: (err: { payload?: { code?: string } }) => err?.payload?.code,
    },
    // `holder` lives as long as this function: the root fds close with the instance.
    'wasi:filesystem/preopens': { getDirectories: () => (holder.roots, getDirectories()) },
  };
}
