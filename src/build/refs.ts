/**
 * Which build-cache entry each plugin folder uses now: every build (or cache
 * hit) of a folder records the entry its current source hashes to, so
 * `airlock prune` can tell the entry a plugin uses from the ones older edits
 * left behind (each edit makes a new entry). One small file per folder,
 * `cacheDir('build-refs', sha256(folder) + '.json')`, replaced atomically.
 */
import { createHash, randomUUID } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from '../paths.ts';

export interface BuildRef {
  /** The plugin folder (absolute). */
  dir: string;
  /** The build-cache entry (hex sha256) its source hashed to. */
  hash: string;
  /** When it was recorded (ms since the epoch). */
  at: number;
}

/** Largest ref file read back (a ref is ~200 bytes; anything bigger is not one of ours). */
const MAX_REF_BYTES = 64 * 1024;

export function refsDir(root?: string): string {
  return root === undefined ? cacheDir('build-refs') : join(root, 'build-refs');
}

/** Records that `dir`'s current source is build entry `hash`. Best effort: a cache that cannot be written only loses the record. */
export async function recordBuildRef(dir: string, hash: string, root?: string): Promise<void> {
  const refs = refsDir(root);
  const file = join(refs, `${createHash('sha256').update(dir).digest('hex')}.json`);
  const tmp = `${file}.tmp-${randomUUID()}`;
  try {
    await mkdir(refs, { recursive: true, mode: 0o700 });
    await writeFile(tmp, `${JSON.stringify({ dir, hash, at: Date.now() } satisfies BuildRef)}\n`);
    await rename(tmp, file);
  } catch {
    // Not recording a ref never fails a build; prune then treats the entry as unreferenced.
  }
}

/** Every recorded ref that parses (a damaged one is ignored: its entry counts as unreferenced). */
export async function readBuildRefs(root?: string): Promise<Array<BuildRef & { file: string }>> {
  const refs = refsDir(root);
  const names = await readdir(refs).catch(() => [] as string[]);
  const out: Array<BuildRef & { file: string }> = [];
  for (const name of names) {
    if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
    const file = join(refs, name);
    const st = await lstat(file).catch(() => undefined);
    if (st === undefined || !st.isFile() || st.size > MAX_REF_BYTES) continue;
    try {
      const ref = JSON.parse(await readFile(file, 'utf8')) as Partial<BuildRef>;
      if (typeof ref.dir === 'string' && typeof ref.hash === 'string' && /^[0-9a-f]{64}$/.test(ref.hash) && typeof ref.at === 'number')
        out.push({ dir: ref.dir, hash: ref.hash, at: ref.at, file });
    } catch {
      // damaged: ignored
    }
  }
  return out;
}
