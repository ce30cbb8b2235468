/** Node stats -> wasi:filesystem descriptor-type and descriptor-stat. */
import type { BigIntStats } from 'node:fs';

interface Typed {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

/** The WASI descriptor-type of a stat or directory entry. */
export function typeOf(st: Typed): string {
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

/** The WASI descriptor-stat of `st`. */
export function statOf(st: BigIntStats): Record<string, unknown> {
  return {
    type: typeOf(st),
    linkCount: st.nlink,
    size: st.size,
    dataAccessTimestamp: toDatetime(st.atimeNs),
    dataModificationTimestamp: toDatetime(st.mtimeNs),
    statusChangeTimestamp: toDatetime(st.ctimeNs),
  };
}
