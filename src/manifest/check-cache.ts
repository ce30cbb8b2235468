/**
 * The schema check of plugin.yaml text, remembered: a manifest that passed
 * is not parsed and checked again (yaml, zod and Ajv over every tool schema,
 * the bulk of a fresh process's manifest check: issue 21) while its text
 * and the checker are unchanged. Only what the text alone decides is kept
 * (the checked value and its positions); the files it names and the runtime
 * are checked on every load (./load.ts). A failed check is never kept.
 *
 * The key is the sha256 of the text and of the checker: every module of this
 * folder and the host policy's schema (src/grants/policy.ts) as they are on
 * disk, and the versions of the libraries they run, so an edited schema or an
 * upgraded zod checks every manifest again (that fingerprint is itself kept
 * by its files' identities: checkerFingerprint). The default host policy is kept
 * the same way (`kind` 'policy': src/grants/default-policy.ts). The value is
 * the checker's own output (what the manifest thread already sends across a
 * thread boundary, structured-clone serialized), under the Airlock cache
 * (owned by the user, mode 0700: src/paths.ts), behind the sha256 of its
 * key and its bytes: a truncated or garbled entry is a miss, and is checked
 * again, and so is an entry moved or copied under another text's key (it
 * vouches for the text it was written for, nothing else). Who can write
 * there can also edit Airlock itself: the seal is against damage and
 * mix-ups, not a signature.
 * At most MAX_ENTRIES are kept: past it the others are dropped (a plugin
 * that rewrites its manifest on every load grows the cache by a bound).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileIdentity } from '../file-identity.ts';
import { cacheDir } from '../paths.ts';
import type { Positions } from './positions.ts';

/** What a passed check leaves: the manifest as the schema gave it, and where its fields stand. */
export interface RememberedCheck {
  value: unknown;
  positions: Positions;
}

/** Entries kept; one more empties the folder but for the newest (they are only a cache). */
export const MAX_ENTRIES = 1000;

/** The libraries the checker runs, whose versions are part of the key. */
const LIBRARIES = ['zod', 'yaml', 'ajv', 're2js'];
const HERE = dirname(fileURLToPath(import.meta.url));
const MODULE = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

let checker: string | undefined;

/**
 * node:crypto and node:v8, loaded on first use: the host imports this module
 * (the default policy), and importing Airlock loads neither (crypto alone is
 * ~10 ms of a fresh process: issue 21).
 */
const sha256 = () => process.getBuiltinModule('node:crypto').createHash('sha256');
const v8 = () => process.getBuiltinModule('node:v8');

/** The checker's fingerprint: this folder's modules, the policy schema and the libraries' versions (once per thread). */
function checkerHash(): string {
  checker ??= checkerFingerprint(HERE, join(HERE, '..', 'grants', `policy${MODULE}`));
  return checker;
}

/** A file's identity (../file-identity.ts); '' when it is gone. */
function identity(path: string): string {
  try {
    return fileIdentity(statSync(path, { bigint: true }));
  } catch {
    return '';
  }
}

/** What a fingerprint was computed from: each file by its identity, the libraries by their package.json. */
interface Memo {
  dir: string;
  files: [string, string][];
  libraries: [string, string, string][];
  hash: string;
}

/** Where the fingerprint of the checker in `dir` is kept (a name per folder: sources and builds alternate). */
function memoPath(dir: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < dir.length; i++) h = Math.imul(h ^ dir.charCodeAt(i), 0x01000193) >>> 0;
  return cacheDir('manifest-checker', `${h.toString(16)}.json`);
}

/**
 * The sha256 of the checker's files in `dir` (its modules) and `policy`, and
 * of the versions of LIBRARIES, remembered by the files' identities (and the
 * libraries' package.json): while none changed, a fresh process takes the
 * hash from a few stats instead of reading and hashing them all (~5 ms of
 * `airlock call` before its worker starts: issue 21). A changed, added or
 * removed module, or an upgraded library, computes it again. The identities
 * are taken before the files are read: a change meanwhile is a miss next time.
 */
export function checkerFingerprint(dir: string, policy: string): string {
  const files = [
    ...readdirSync(dir)
      .filter((n) => n.endsWith(MODULE) && !n.endsWith(`.d${MODULE}`))
      .sort()
      .map((n) => join(dir, n)),
    policy,
  ];
  const memoFile = memoPath(dir);
  try {
    const memo = JSON.parse(readFileSync(memoFile, 'utf8')) as Memo;
    if (
      memo.dir === dir &&
      typeof memo.hash === 'string' &&
      memo.files.length === files.length &&
      memo.files.every(([f, id], i) => f === files[i] && id !== '' && identity(f) === id) &&
      memo.libraries.length === LIBRARIES.length &&
      memo.libraries.every(([name, pkg, id], i) => name === LIBRARIES[i] && id !== '' && identity(pkg) === id)
    )
      return memo.hash;
  } catch {
    // None yet, or unreadable: computed below.
  }
  const ids = files.map((f) => [f, identity(f)] as [string, string]);
  const libraries = LIBRARIES.map((lib) => {
    const pkg = packageOf(lib);
    return { lib, pkg, id: pkg === undefined ? '' : identity(pkg.path) };
  });
  const h = sha256();
  for (const file of files)
    h.update(`${file.slice(dir.length)}\0`)
      .update(readFileSync(file))
      .update('\0');
  for (const { lib, pkg } of libraries) h.update(`${lib}@${pkg?.version ?? 'unknown'}\0`);
  const hash = h.digest('hex');
  writeMemo(memoFile, { dir, files: ids, libraries: libraries.map(({ lib, pkg, id }) => [lib, pkg?.path ?? '', id]), hash });
  return hash;
}

function writeMemo(path: string, memo: Memo): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, JSON.stringify(memo), { mode: 0o600 });
    renameSync(tmp, path);
  } catch {
    // Only a cache: the next process computes it again.
    rmSync(tmp, { force: true });
  }
}

/** An installed package's version and package.json (which may not be in its `exports`): the nearest one up from its entry. */
function packageOf(name: string): { version: string; path: string } | undefined {
  for (let d = dirname(fileURLToPath(import.meta.resolve(name))); ; d = dirname(d)) {
    try {
      const path = join(d, 'package.json');
      const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && typeof pkg.version === 'string') return { version: pkg.version, path };
    } catch {
      // No package.json here: look further up.
    }
    if (dirname(d) === d) return undefined;
  }
}

/** What is remembered: a manifest's schema check, the default policy as its schema parses it, or a tool schema's validator code (src/host/validator-cache.ts). */
export type CheckKind = 'manifest' | 'policy' | 'validator';

/** An entry's key: the checker, the kind and the text. */
function entryKey(kind: CheckKind, text: string): string {
  return sha256().update(checkerHash()).update(`\0${kind}\0`).update(text).digest('hex');
}

/** The file name of `kind`'s entry for `text` under this checker (`airlock prune` keeps the ones in use). */
export function checkEntryName(kind: CheckKind, text: string): string {
  return `${entryKey(kind, text)}.bin`;
}

/** What heads an entry: the sha256 of its key and its payload. */
function seal(key: string, payload: Uint8Array): Buffer {
  return sha256().update(`${key}\0`).update(payload).digest();
}

/** The check this text passed before, with this checker; undefined when there is none (or it is damaged). */
export function recalledCheck(text: string): RememberedCheck | undefined {
  const v = recall('manifest', text) as RememberedCheck | undefined;
  return v !== null && typeof v === 'object' && 'value' in v && Array.isArray(v.positions?.values) ? v : undefined;
}

/** Keeps a passed manifest check. */
export function rememberCheck(text: string, check: RememberedCheck): void {
  remember('manifest', text, check);
}

/** What `kind`'s check of `text` gave before, with this checker (the caller checks its shape); undefined when none or damaged. */
export function recall(kind: CheckKind, text: string): unknown {
  try {
    const key = entryKey(kind, text);
    const bytes = readFileSync(cacheDir('manifest-checks', `${key}.bin`));
    const payload = bytes.subarray(32);
    if (!seal(key, payload).equals(bytes.subarray(0, 32))) return undefined;
    return v8().deserialize(payload) as unknown;
  } catch {
    return undefined;
  }
}

/** Keeps what a passed check gave (best effort: a cache that cannot be written only costs the next check its time). */
export function remember(kind: CheckKind, text: string, check: unknown): void {
  let tmp: string | undefined;
  try {
    const key = entryKey(kind, text);
    const path = cacheDir('manifest-checks', `${key}.bin`);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const payload = v8().serialize(check);
    tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(tmp, Buffer.concat([seal(key, payload), payload]), { mode: 0o600 });
    renameSync(tmp, path);
    const kept = readdirSync(dirname(path));
    if (kept.length > MAX_ENTRIES) for (const name of kept) if (join(dirname(path), name) !== path) rmSync(join(dirname(path), name), { force: true });
  } catch {
    if (tmp !== undefined) rmSync(tmp, { force: true });
  }
}
