/**
 * `airlock prune`: removes what old builds left behind. Every edit of a
 * plugin makes a new build-cache entry (and its transpiled glue and .cwasm),
 * every edit of a Docker plugin a new image; nothing else ever removes the
 * old ones.
 *
 * Kept: per plugin folder, the build entry its current source uses (the ref
 * the last build or load recorded, src/build/refs.ts), while the folder still
 * exists; the transpiled and precompiled forms of the kept components; the
 * current componentize-js compile cache; the remembered checks of the
 * manifests those folders have now (and of the default policy); V8's compile
 * cache of this Node and of the kept components' glue; per Airlock plugin name, the newest image. Everything
 * else of those kinds goes, when older than `olderThanMs`.
 *
 * Bounds: only names Airlock writes, directly inside the cache root's own
 * folders (a 64-hex entry, a `.tmp-`/`.discard-` leftover), each checked
 * with lstat first: a symlink is never followed nor removed, nothing outside
 * the root is touched. Only images labelled `airlock.managed=true` and tagged
 * `airlock-plugin/…` are removed.
 */
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type Docker from 'dockerode';
import { packageVersion } from '../build/wasm.ts';
import { readBuildRefs } from '../build/refs.ts';
import { DEFAULT_INPUT } from '../grants/policy-paths.ts';
import { validatorEntryName } from '../host/validator-cache.ts';
import { checkEntryName } from '../manifest/check-cache.ts';
import { toDraft2020 } from '../manifest/dialect.ts';
import { recalledPlugin } from '../manifest/load.ts';
import { glueCodeCacheName } from '../engines/wasm/glue-file.ts';
import { transpileKey } from '../engines/wasm/transpile.ts';
import { cwasmKey } from '../engines/wasmtime/compile.ts';
import { AirlockError } from '../errors.ts';
import { cacheRoot } from '../paths.ts';
import { BUNDLE_CODE, BUNDLE_CODE_LEFTOVER, bundleHash } from '../bundle-load.ts';
import { isInside, MAX_MANIFEST_BYTES, readPluginFile } from '../plugin-files/index.ts';

export type PrunedKind = 'build' | 'ref' | 'transpiled' | 'wasmtime' | 'toolchain' | 'check' | 'compile-cache' | 'leftover' | 'image';

export interface Pruned {
  kind: PrunedKind;
  /** The path (inside the cache root) or image tag. */
  what: string;
  bytes: number;
  /** Why it goes. */
  reason: string;
  /** Set when removing it failed (an image in use, …). */
  error?: string;
}

export interface PruneResult {
  root: string;
  dryRun: boolean;
  removed: Pruned[];
  /** Bytes freed (or, dry, that would be). */
  bytes: number;
  /** Build entries and images kept. */
  kept: { build: number; images: number };
  /** Why images were not looked at, when they were not. */
  imagesSkipped?: string;
}

/** What prune needs of Docker: the Airlock-labelled images, and removing one tag. */
export interface ImageStore {
  list(): Promise<Array<{ id: string; tags: string[]; labels: Record<string, string>; created: number; size: number }>>;
  remove(tag: string): Promise<void>;
}

export function dockerImageStore(docker: Docker): ImageStore {
  return {
    list: async () => {
      // An image's own bytes: most of its size is layers shared with its base and the plugin's other images.
      const df = (await docker.df().catch(() => undefined)) as { Images?: Array<{ Id: string; Size: number; SharedSize: number }> } | undefined;
      const own = new Map((df?.Images ?? []).filter((i) => i.SharedSize >= 0).map((i) => [i.Id, i.Size - i.SharedSize]));
      return (await docker.listImages({ filters: { label: ['airlock.managed=true'] } })).map((i) => ({
        id: i.Id,
        tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
        labels: i.Labels ?? {},
        created: i.Created * 1000,
        size: own.get(i.Id) ?? i.Size,
      }));
    },
    remove: async (tag) => {
      await docker.getImage(tag).remove();
    },
  };
}

export interface PruneOptions {
  /** Report what would go; remove nothing. */
  dryRun?: boolean;
  /** Only what is older than this (ms); default: everything unreferenced. */
  olderThanMs?: number;
  /** The images; null: leave images alone. */
  images?: ImageStore | null;
  /** Why images are left alone (with images: null), for the report. */
  imagesSkipped?: string;
  /** Cache root (default cacheRoot()). */
  root?: string;
  /** Airlock's installed bundle, whose compiled code is kept (default: this install's, src/bundle-load.ts; none from a checkout). */
  bundleFile?: string;
  now?: number;
}

const HASH = /^[0-9a-f]{64}$/;
/** Leftovers of an interrupted write (src/build/wasm.ts, transpile.ts, cache-integrity.ts): removed once an hour old, so a running build keeps its own. */
const LEFTOVER = /^[0-9a-f]{64}(\.cwasm)?\.(tmp|discard)-/;
const LEFTOVER_AGE_MS = 3600_000;
/** A remembered manifest check, and what an interrupted write of one leaves (src/manifest/check-cache.ts). */
const CHECK = /^[0-9a-f]{64}\.bin$/;
const CHECK_LEFTOVER = /^[0-9a-f]{64}\.bin\.\d+\.[0-9a-z]+$/;
/** V8's code cache of a glue, and what an interrupted write of one leaves (src/engines/wasm/glue-load.ts). */
const GLUE_CODE = /^[0-9a-f]{64}-node[\w.-]+\.code$/;
const GLUE_CODE_LEFTOVER = /^[0-9a-f]{64}-node[\w.-]+\.code\.\d+-\d+\.tmp$/;
/** Node's compile cache folder: `<node version>-<arch>-<flags hash>-<uid>`. */
const NODE_CACHE = /^v\d+\.\d+\.\d+[\w.-]*$/;
const IN_FLIGHT_MS = 60_000;

/** Bytes under `path`, without following symlinks. */
async function sizeOf(path: string): Promise<number> {
  let total = 0;
  const stack = [path];
  while (stack.length > 0) {
    const p = stack.pop()!;
    const st = await lstat(p).catch(() => undefined);
    if (st === undefined) continue;
    total += st.isDirectory() ? 0 : st.size;
    if (st.isDirectory()) for (const n of await readdir(p).catch(() => [] as string[])) stack.push(join(p, n));
  }
  return total;
}

export async function prune(options: PruneOptions = {}): Promise<PruneResult> {
  const root = options.root ?? cacheRoot();
  const dryRun = options.dryRun === true;
  const now = options.now ?? Date.now();
  const olderThan = options.olderThanMs ?? 0;
  const result: PruneResult = { root, dryRun, removed: [], bytes: 0, kept: { build: 0, images: 0 } };
  if (!existsSync(root)) return result;
  const realRoot = await realpath(root);

  /** A real folder of the cache root (not a symlink planted in its place), or undefined. */
  const area = async (name: string): Promise<string | undefined> => {
    const p = join(root, name);
    const st = await lstat(p).catch(() => undefined);
    return st?.isDirectory() === true && isInside(realRoot, await realpath(p)) ? p : undefined;
  };
  /** Entries of an area: name, path, lstat; symlinks and other kinds left out (never followed, never removed). */
  const entries = async (dir: string, want: 'dir' | 'file') => {
    const out: Array<{ name: string; path: string; mtime: number }> = [];
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      const st = await lstat(path).catch(() => undefined);
      if (st === undefined || (want === 'dir' ? !st.isDirectory() : !st.isFile())) continue;
      out.push({ name, path, mtime: st.mtimeMs });
    }
    return out;
  };
  const old = (mtime: number): boolean => now - mtime >= olderThan;
  // An entry written this minute may be a concurrent build's, published just before it records its ref.
  const settled = (mtime: number): boolean => now - mtime >= Math.max(olderThan, IN_FLIGHT_MS);
  const remove = async (kind: PrunedKind, path: string, reason: string): Promise<void> => {
    // Belt and braces: nothing outside the root, whatever led here.
    if (!isInside(realRoot, await realpath(dirname(path)))) throw new AirlockError('internal', `prune: ${path} is outside the cache root ${realRoot}`);
    const bytes = await sizeOf(path);
    const item: Pruned = { kind, what: path, bytes, reason };
    if (!dryRun) {
      try {
        await rm(path, { recursive: true, force: true });
      } catch (e) {
        item.error = (e as Error).message;
      }
    }
    result.removed.push(item);
    if (item.error === undefined) result.bytes += bytes;
  };

  // Build entries: the one each existing plugin folder's source uses is kept.
  const keptComponents: Uint8Array[] = [];
  /** V8's code caches of the kept components' glue (src/engines/wasm/glue-file.ts). */
  const keptCodeCaches = new Set<string>();
  /** Plugin folders a build was recorded for that still exist. */
  const folders = new Set<string>();
  const inUse = new Map<string, string>();
  for (const ref of await readBuildRefs(root)) {
    if (existsSync(join(ref.dir, 'plugin.yaml'))) {
      inUse.set(ref.hash, ref.dir);
      folders.add(ref.dir);
    } else if (old(ref.at)) await remove('ref', ref.file, `the record of ${ref.dir}, which is gone`);
  }
  const build = await area('build');
  if (build !== undefined) {
    for (const e of await entries(build, 'dir')) {
      if (HASH.test(e.name)) {
        if (inUse.has(e.name)) {
          result.kept.build++;
          const bytes = await readFile(join(e.path, 'plugin.wasm')).catch(() => undefined);
          if (bytes !== undefined) keptComponents.push(bytes);
        } else if (settled(e.mtime)) await remove('build', e.path, 'no plugin folder uses it now (an older build, or a folder that is gone)');
      } else if (LEFTOVER.test(e.name) && now - e.mtime >= Math.max(olderThan, LEFTOVER_AGE_MS))
        await remove('leftover', e.path, 'left by an interrupted build');
    }
  }

  // Transpiled glue and .cwasm: kept for the kept components only.
  const transpiled = await area('transpiled');
  if (transpiled !== undefined) {
    const keep = new Set(keptComponents.flatMap((b) => [transpileKey(b, false), transpileKey(b, true)]));
    for (const e of await entries(transpiled, 'dir')) {
      if (HASH.test(e.name) && keep.has(e.name)) {
        const glue = join(e.path, 'plugin.js');
        const source = await readFile(glue, 'utf8').catch(() => undefined);
        if (source !== undefined) keptCodeCaches.add(glueCodeCacheName(source, glue));
      } else if (HASH.test(e.name) && settled(e.mtime)) await remove('transpiled', e.path, 'the transpiled form of a component no longer in use');
      else if (LEFTOVER.test(e.name) && now - e.mtime >= Math.max(olderThan, LEFTOVER_AGE_MS))
        await remove('leftover', e.path, 'left by an interrupted transpile');
    }
  }
  const wasmtime = await area('wasmtime');
  if (wasmtime !== undefined) {
    const keep = new Set(keptComponents.map((b) => cwasmKey(b)));
    for (const version of await entries(wasmtime, 'dir')) {
      for (const e of await entries(version.path, 'file')) {
        const m = /^([0-9a-f]{64})\.(cwasm|imports\.json)$/.exec(e.name);
        if (m !== null && !keep.has(m[1]!) && settled(e.mtime)) await remove('wasmtime', e.path, 'compiled from a component no longer in use');
        else if (LEFTOVER.test(e.name) && now - e.mtime >= Math.max(olderThan, LEFTOVER_AGE_MS))
          await remove('leftover', e.path, 'left by an interrupted compile');
      }
    }
  }

  // componentize-js's compile cache: only the installed version's is used.
  const toolchain = await area('build-toolchain');
  if (toolchain !== undefined) {
    const current = `componentize-js-${packageVersion('@bytecodealliance/componentize-js')}`;
    for (const e of await entries(toolchain, 'dir'))
      if (/^componentize-js-\d/.test(e.name) && e.name !== current && old(e.mtime))
        await remove('toolchain', e.path, `the compile cache of another componentize-js (this is ${current})`);
  }

  // Remembered manifest checks (src/manifest/check-cache.ts): kept for the plugin.yaml each of those folders has
  // now, its tools' validators and the default policy; those of edited manifests, of gone folders and of an
  // older checker go.
  const checks = await area('manifest-checks');
  if (checks !== undefined) {
    const keep = new Set([checkEntryName('policy', DEFAULT_INPUT)]);
    for (const dir of folders) {
      // The plugin's own file: the bounded reader, as load reads it (a FIFO or a link out of the folder is refused).
      const text = await readPluginFile(dir, 'plugin.yaml', { code: 'invalid-manifest', maxBytes: MAX_MANIFEST_BYTES }).catch(() => undefined);
      if (text !== undefined) keep.add(checkEntryName('manifest', text.toString('utf8')));
      // Its tools' validators (src/host/validator-cache.ts), named from the remembered check: nothing is compiled here.
      const read = recalledPlugin(dir);
      if (read?.ok === true)
        for (const tool of read.plugin.manifest.tools)
          for (const schema of [tool.input, tool.output]) if (schema !== undefined) keep.add(validatorEntryName(toDraft2020(schema)));
    }
    for (const e of await entries(checks, 'file')) {
      if (CHECK.test(e.name)) {
        if (!keep.has(e.name) && settled(e.mtime))
          await remove('check', e.path, 'a remembered check of a manifest no plugin folder has now (or of an older Airlock)');
      } else if (CHECK_LEFTOVER.test(e.name) && now - e.mtime >= Math.max(olderThan, LEFTOVER_AGE_MS))
        await remove('leftover', e.path, 'left by an interrupted write of a remembered check');
    }
  }

  // V8's code cache of each glue (src/engines/wasm/glue-file.ts): kept for the kept components' glue under this Node.
  const codeCaches = await area('glue-code');
  if (codeCaches !== undefined) {
    for (const e of await entries(codeCaches, 'file')) {
      if (GLUE_CODE.test(e.name)) {
        if (!keptCodeCaches.has(e.name) && settled(e.mtime))
          await remove('compile-cache', e.path, 'compiled glue of a component no longer in use, or of another Node');
      } else if (GLUE_CODE_LEFTOVER.test(e.name) && now - e.mtime >= Math.max(olderThan, LEFTOVER_AGE_MS))
        await remove('leftover', e.path, 'left by an interrupted write of compiled glue');
    }
  }

  // V8's code cache of Airlock's bundle (src/bundle-load.ts): only the installed bundle's, under this Node, is
  // used; from a checkout (no bundle) those of other Nodes go.
  const bundleCodes = await area('bundle-code');
  if (bundleCodes !== undefined) {
    const current = bundleHash(options.bundleFile);
    for (const e of await entries(bundleCodes, 'file')) {
      const m = BUNDLE_CODE.exec(e.name);
      if (m !== null) {
        if ((m[2] !== process.versions.node || (current !== undefined && m[1] !== current)) && settled(e.mtime))
          await remove(
            'compile-cache',
            e.path,
            `compiled Airlock of another version or Node (this is ${current?.slice(0, 12) ?? 'a checkout'} on Node ${process.versions.node})`,
          );
      } else if (BUNDLE_CODE_LEFTOVER.test(e.name) && now - e.mtime >= Math.max(olderThan, LEFTOVER_AGE_MS))
        await remove('leftover', e.path, 'left by an interrupted write of compiled Airlock');
    }
  }

  // V8's compile cache of the CLI (src/cli/main.ts): one folder per Node version; only this Node's is used.
  const compiled = await area('v8-compile');
  if (compiled !== undefined) {
    const current = `${process.version}-${process.arch}-`;
    for (const e of await entries(compiled, 'dir'))
      if (NODE_CACHE.test(e.name) && !e.name.startsWith(current) && old(e.mtime))
        await remove('compile-cache', e.path, `the compile cache of another Node (this is ${process.version})`);
  }

  if (options.images === null || options.images === undefined) {
    if (options.imagesSkipped !== undefined) result.imagesSkipped = options.imagesSkipped;
  } else await pruneImages(options.images, result, { dryRun, now, olderThan });
  return result;
}

/** Per Airlock plugin name, the newest image is kept; older ones go. Only labelled, airlock-plugin/ tagged images are touched. */
async function pruneImages(store: ImageStore, result: PruneResult, o: { dryRun: boolean; now: number; olderThan: number }): Promise<void> {
  const byPlugin = new Map<string, Array<Awaited<ReturnType<ImageStore['list']>>[number]>>();
  for (const image of await store.list()) {
    const ours = image.labels['airlock.managed'] === 'true' && image.tags.length > 0 && image.tags.every((t) => t.startsWith('airlock-plugin/'));
    const plugin = image.labels['airlock.plugin'];
    if (!ours || plugin === undefined) continue;
    byPlugin.set(plugin, [...(byPlugin.get(plugin) ?? []), image]);
  }
  for (const [plugin, images] of byPlugin) {
    images.sort((a, b) => b.created - a.created);
    result.kept.images++;
    for (const image of images.slice(1)) {
      if (o.now - image.created < o.olderThan) continue;
      for (const tag of image.tags) {
        const item: Pruned = {
          kind: 'image',
          what: tag,
          bytes: image.size,
          reason: `an older image of plugin ${plugin} (the newest is ${images[0]!.tags[0]})`,
        };
        if (!o.dryRun) {
          try {
            await store.remove(tag);
          } catch (e) {
            item.error = (e as Error).message.split('\n')[0] ?? String(e);
          }
        }
        result.removed.push(item);
        // An image's bytes count once, with its last tag (removing the last tag frees it).
        if (item.error === undefined && tag === image.tags.at(-1)) result.bytes += image.size;
      }
    }
  }
}
