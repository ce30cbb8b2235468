/**
 * Integrity of cache entries. Everything in the cache (src/paths.ts) is
 * rebuilt on demand, but an entry that exists is trusted to be what Airlock
 * wrote: a truncated or garbled file (a full disk, a crash mid-write on a
 * filesystem without ordered renames, a stray edit) would otherwise fail
 * every later load with a misleading error, or be run (`.cwasm` files are
 * native code wasmtime runs unchecked). So each entry carries the sha256 of
 * its files, written last, and a reader that finds a mismatch discards the
 * entry and rebuilds it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The seal of a folder entry: file name -> sha256 (hex). */
export const SEAL_FILE = 'seal.json';

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes `dir/seal.json` naming each file's sha256; call it last, before the entry is published. */
export async function writeSeal(dir: string, files: Record<string, Uint8Array | string>): Promise<void> {
  const seal: Record<string, string> = {};
  for (const [name, data] of Object.entries(files)) seal[name] = sha256(data);
  await writeFile(join(dir, SEAL_FILE), `${JSON.stringify(seal)}\n`);
}

/**
 * The files a sealed folder entry holds, by name, when every one matches its
 * seal; undefined when the entry is missing, unsealed (written before seals
 * existed), or any file is missing, truncated or altered.
 */
export async function readSealed(dir: string): Promise<Map<string, Buffer> | undefined> {
  let seal: unknown;
  try {
    seal = JSON.parse(await readFile(join(dir, SEAL_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  if (seal === null || typeof seal !== 'object' || Array.isArray(seal)) return undefined;
  const files = new Map<string, Buffer>();
  for (const [name, digest] of Object.entries(seal as Record<string, unknown>)) {
    if (typeof digest !== 'string' || name.includes('/') || name === SEAL_FILE) return undefined;
    let data: Buffer;
    try {
      data = await readFile(join(dir, name));
    } catch {
      return undefined;
    }
    if (sha256(data) !== digest) return undefined;
    files.set(name, data);
  }
  return files;
}

/**
 * Removes a damaged entry. It is renamed aside first, so a concurrent writer
 * publishing the same entry (by rename) never has its fresh copy deleted.
 */
export async function discardEntry(path: string): Promise<void> {
  const aside = `${path}.discard-${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch {
    return; // already gone (or replaced by another process)
  }
  await rm(aside, { recursive: true, force: true });
}
