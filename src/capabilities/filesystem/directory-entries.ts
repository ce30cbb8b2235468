/** wasi:filesystem directory-entry-stream over a directory listing read at once. */
import type { Dirent } from 'node:fs';
import { typeOf } from './stat.ts';

export class DirectoryEntryStream {
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
