/**
 * The wasi:filesystem descriptor: a directory or regular file the guest
 * holds open, each backed by a real fd. Paths below a directory go through
 * the walk (./walk.ts: one component at a time, never following a symlink,
 * never climbing above the descriptor), so:
 * - the guest cannot create symlinks (`not-permitted`);
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
  readlinkSync,
  readSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { FileUsage } from '../types.ts';
import { DirectoryEntryStream } from './directory-entries.ts';
import { wasiCode } from './errors.ts';
import { closeFd, closeOnCollect } from './fds.ts';
import { guardedWrite, MAX_IO, type FileStreams } from './file-streams.ts';
import type { Quota } from './quota.ts';
import { statOf } from './stat.ts';
import { atPath, fdPath, openBelow } from './walk.ts';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY } = constants;

export type DescriptorType = 'directory' | 'regular-file';

export interface DescriptorFlags {
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

/** What the descriptors of one createFilesystem call (./preopens.ts) share. */
export interface FilesystemContext {
  /** The plugin's disk quota, for descriptors of read-write grants. */
  quota: Quota | undefined;
  /** Descriptors and listings the guest holds open, closed all at once when the instance is released. */
  live: Set<Disposable>;
  streams: FileStreams;
  /** Reads and writes counted for the call's usage. */
  files: FileUsage;
}

export class Descriptor {
  #fd: number;
  #type: DescriptorType;
  #writable: boolean;
  #flags: DescriptorFlags;
  /** The plugin's disk quota; set on descriptors of read-write grants. */
  #quota: Quota | undefined;
  #closed = false;
  #fs: FilesystemContext;

  constructor(fs: FilesystemContext, fd: number, type: DescriptorType, writable: boolean, flags: DescriptorFlags) {
    this.#fs = fs;
    this.#fd = fd;
    this.#type = type;
    this.#writable = writable;
    this.#flags = flags;
    this.#quota = writable ? fs.quota : undefined;
    closeOnCollect.register(this, fd, this);
    fs.live.add(this);
  }

  [Symbol.dispose](): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#fs.live.delete(this);
    closeOnCollect.unregister(this);
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

  #at<T>(path: string, fn: (p: string) => T): T {
    this.#mustDir();
    return atPath(this.#fd, path, fn);
  }

  /** A descriptor of the same createFilesystem call: rename and link stay inside one plugin instance. */
  #sameFilesystem(other: unknown): other is Descriptor {
    return other instanceof Descriptor && other.#fs === this.#fs;
  }

  readViaStream(offset: bigint): object {
    this.#mustFile();
    if (!this.#flags.read) throw 'bad-descriptor';
    return this.#fs.streams.input(this.#fd, offset);
  }
  writeViaStream(offset: bigint): object {
    this.#mustFile();
    this.#mustWrite();
    if (!this.#flags.write) throw 'bad-descriptor';
    return this.#fs.streams.output(this.#fd, offset, this.#quota);
  }
  appendViaStream(): object {
    this.#mustFile();
    this.#mustWrite();
    if (!this.#flags.write) throw 'bad-descriptor';
    return this.#fs.streams.output(this.#fd, 'append', this.#quota);
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
      this.#fs.files.reads++;
      this.#fs.files.readBytes += got;
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
      const written = guardedWrite(this.#quota, this.#fd, buffer, offset, (at, n) => writeSync(this.#fd, buffer, 0, n, at));
      this.#fs.files.writes++;
      this.#fs.files.writeBytes += written;
      return BigInt(written);
    } catch (e) {
      throw wasiCode(e);
    }
  }
  readDirectory(): DirectoryEntryStream {
    this.#mustDir();
    try {
      return new DirectoryEntryStream(fdPath(this.#fd), this.#fs.live);
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
    if (!this.#sameFilesystem(newDescriptor)) throw 'bad-descriptor';
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
    if (!this.#sameFilesystem(newDescriptor)) throw 'bad-descriptor';
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
    if (!this.#sameFilesystem(other)) return false;
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

  /** Opens `path` below this directory, type-checked and never following (./walk.ts `openBelow`). */
  #openChecked(path: string, flags: number, allowMissing = false): number {
    this.#mustDir();
    const q = this.#quota;
    // Creating or truncating changes what the grant holds: measured under the quota lock.
    if (q !== undefined && (flags & (O_CREAT | O_TRUNC)) !== 0) return q.locked(() => openBelow(this.#fd, path, flags, allowMissing, q));
    return openBelow(this.#fd, path, flags, allowMissing, undefined);
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
    return new Descriptor(this.#fs, fd, type, this.#writable, { ...flags });
  }
}

function seconds(t: NewTimestamp, current: bigint): number {
  if (t.tag === 'now') return Date.now() / 1000;
  if (t.tag === 'timestamp') return Number(t.val.seconds) + t.val.nanoseconds / 1e9;
  return Number(current) / 1e9;
}
