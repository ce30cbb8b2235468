/**
 * wasi:filesystem directory-entry-stream: the listing is read from the directory in batches (opendir), one
 * entry per guest call, so a granted folder of millions of names (or one a guest filled through a read-write
 * grant) costs the host one batch per stream, not the whole listing. The stream's directory counts against
 * MAX_OPEN_FDS and is closed when the guest drops the stream, when the instance is released, or when collected.
 */
import type { Dir, Dirent } from 'node:fs';
import { wasiCode } from './errors.ts';
import { closeDir, openDir } from './fds.ts';
import { typeOf } from './stat.ts';

/** Entries read from the directory per batch (one readdir call), and all a stream holds at once. */
export const LIST_BATCH = 32;

const closeOnCollect = new FinalizationRegistry<Dir>((dir) => closeDir(dir));

export class DirectoryEntryStream {
  #dir: Dir | undefined;
  #live: Set<Disposable>;

  /** `path` names the directory (its /proc fd path); `live` holds what the instance closes on release. */
  constructor(path: string, live: Set<Disposable>) {
    this.#dir = openDir(path, LIST_BATCH);
    this.#live = live;
    closeOnCollect.register(this, this.#dir, this);
    live.add(this);
  }

  readDirectoryEntry(): { type: string; name: string } | undefined {
    let e: Dirent | null;
    try {
      e = this.#dir?.readSync() ?? null;
    } catch (err) {
      throw wasiCode(err);
    }
    if (e === null) {
      // The end: the directory is let go at once, not when the guest drops the stream.
      this[Symbol.dispose]();
      return undefined;
    }
    return { type: typeOf(e), name: e.name };
  }

  [Symbol.dispose](): void {
    const dir = this.#dir;
    if (dir === undefined) return;
    this.#dir = undefined;
    this.#live.delete(this);
    closeOnCollect.unregister(this);
    closeDir(dir);
  }
}
