/**
 * A file's identity, for what is remembered while a file stays as it was
 * (the transpile cache served from memory, the manifest checker's
 * fingerprint): writing it in place (mtime, ctime), truncating it (size)
 * or replacing it (inode, device) changes it. One format, kept in caches on
 * disk: changing it makes every remembered identity a miss once.
 */
import type { BigIntStats } from 'node:fs';

export function fileIdentity(s: BigIntStats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}
