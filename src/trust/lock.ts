/**
 * The lock file (`airlock.lock`): what was reviewed, pinned. One entry per
 * plugin: its name, version, where it came from, its digest, and each tool's
 * digest (description, schemas, annotations). A host given a lock file
 * refuses a plugin that is not in it, whose digest differs, or whose tools
 * changed (the "rug pull": a reviewed tool's description rewritten later),
 * until it is reviewed and locked again.
 */
import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { AirlockError } from '../errors.ts';
import type { LoadedManifest } from '../manifest/index.ts';
import { pluginDigest, toolDigest } from './digest.ts';
import { readSmallFile } from './read.ts';

export const LOCK_FILE = 'airlock.lock';
export const LOCK_VERSION = 1;
/** A lock of thousands of plugins is far below this; a larger file is refused before it is read. */
export const MAX_LOCK_BYTES = 4 * 1024 * 1024;

const digestSchema = z.string().regex(/^sha256:[0-9a-f]{64}$/, { error: 'expected sha256:<64 hex digits>' });

export const lockSchema = z.strictObject({
  lockVersion: z.literal(LOCK_VERSION, { error: `expected lockVersion ${LOCK_VERSION} (written by \`airlock lock\`)` }),
  plugins: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(256),
        version: z.string().max(256),
        /** The folder (relative to the lock file) or the `oci://` reference it was locked from. */
        source: z.string().max(4096),
        digest: digestSchema,
        tools: z.array(z.strictObject({ name: z.string().min(1).max(256), digest: digestSchema })).max(10_000),
      }),
    )
    .max(100_000),
});

export type LockFile = z.infer<typeof lockSchema> & { /** Where it was read from, for messages. */ origin: string };
export type LockEntry = LockFile['plugins'][number];

/** The entry `airlock lock` writes for a plugin. */
export async function lockEntry(plugin: LoadedManifest, source: string, digest?: string): Promise<LockEntry> {
  const m = plugin.manifest;
  return {
    name: m.name,
    version: m.version,
    source,
    digest: digest ?? (await pluginDigest(plugin.dir)),
    tools: m.tools.map((t) => ({ name: t.name, digest: toolDigest(t) })),
  };
}

/** The file's text: JSON, plugins sorted by name, so a re-lock's diff shows only what changed. */
export function formatLock(entries: LockEntry[]): string {
  const plugins = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return `${JSON.stringify({ lockVersion: LOCK_VERSION, plugins }, null, 2)}\n`;
}

export async function writeLock(file: string, entries: LockEntry[]): Promise<void> {
  await writeFile(file, formatLock(entries));
}

/** Reads and checks a lock file (bounded: it is user data, and may be anything). */
export async function readLock(file: string): Promise<LockFile> {
  const text = await readSmallFile(file, MAX_LOCK_BYTES, 'invalid-policy', 'lock file');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new AirlockError('invalid-policy', `${file} is not JSON: ${(err as Error).message}`, {
      cause: err,
      problems: [{ file, path: '', message: 'not JSON', hint: 'write it with `airlock lock <dir…>`' }],
    });
  }
  const parsed = lockSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ file, path: i.path.join('.'), message: i.message, hint: 'write it with `airlock lock <dir…>`' }));
    throw new AirlockError('invalid-policy', `${file}: ${problems.length} problem(s) in the lock file`, { problems });
  }
  const names = new Set<string>();
  for (const p of parsed.data.plugins) {
    if (names.has(p.name)) throw new AirlockError('invalid-policy', `${file} locks the plugin "${p.name}" twice; keep one entry`);
    names.add(p.name);
  }
  return { ...parsed.data, origin: file };
}

/** What changed in a plugin's tools since it was locked: added, removed, or with another description or schema. */
export function toolChanges(locked: LockEntry, plugin: LoadedManifest): string[] {
  const was = new Map(locked.tools.map((t) => [t.name, t.digest]));
  const changes: string[] = [];
  for (const t of plugin.manifest.tools) {
    const before = was.get(t.name);
    if (before === undefined) changes.push(`tool "${t.name}" is new`);
    else if (before !== toolDigest(t)) changes.push(`tool "${t.name}" has another description, schema or annotations`);
    was.delete(t.name);
  }
  for (const name of was.keys()) changes.push(`tool "${name}" is gone`);
  return changes;
}

/** Refuses (lock-mismatch) a plugin the lock does not pin as it is now: not in it, other tools, or another digest. */
export function checkLock(lock: LockFile, plugin: LoadedManifest, digest: string): void {
  const name = plugin.manifest.name;
  const fix = `review it, then run \`airlock lock\` again to pin it (${lock.origin})`;
  const locked = lock.plugins.find((p) => p.name === name);
  if (locked === undefined) {
    throw new AirlockError('lock-mismatch', `plugin "${name}" (${plugin.dir}) is not in the lock file ${lock.origin}; ${fix}`, {
      details: { plugin: name, expected: null, actual: digest },
    });
  }
  if (locked.digest === digest) return;
  const tools = toolChanges(locked, plugin);
  const what = tools.length > 0 ? `${tools.join('; ')} (a changed tool description is how a reviewed tool is turned against its agent)` : 'its files changed';
  throw new AirlockError(
    'lock-mismatch',
    `plugin "${name}" (${plugin.dir}) is not what ${lock.origin} pinned: expected digest ${locked.digest}, actual ${digest}; ${what}; ${fix}`,
    { details: { plugin: name, expected: locked.digest, actual: digest, tools } },
  );
}
