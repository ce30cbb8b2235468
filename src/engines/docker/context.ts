/**
 * The build context of a plugin image: the plugin folder (minus what its
 * ignore file leaves out) under `plugin/`, Airlock's own files under
 * `.airlock/`, as an uncompressed tar streamed one file at a time (a plugin
 * folder may hold 512 MiB: never all of it in host memory). Files go to Docker only as
 * uncompressed archives (a compressed archive sent to a container is unpacked
 * by the container's own tools as host root, GHSA-x86f-5xw2-fm2r). Modes are
 * normalised and times zeroed, so the same files give the same bytes.
 */
import { MANIFEST_FILE } from '../../manifest/index.ts';
import { readPluginFile, walkPluginTree, type Ignore, type TarEntry } from '../../plugin-files/index.ts';

// Ignore files are read and matched by src/plugin-files (bounded, no regular expressions); the tar writer is theirs too.
export { DEFAULT_IGNORES, IGNORE_FILES, ignoreMatcher, pluginIgnore, tar, tarStream } from '../../plugin-files/index.ts';

export type ContextEntry = TarEntry;

/**
 * Left out of the image: the manifest. Nothing in the container reads it, and what of it shapes the image
 * (entry, `build:`) is in the generated Dockerfile, so changing permissions or limits rebuilds nothing.
 */
const NOT_IN_IMAGE = new Set([MANIFEST_FILE]);

/** A context entry whose file bytes are read when needed (`read`), one file at a time. */
export type LazyEntry = ContextEntry & { read?: () => Promise<Buffer> };

/** The plugin folder's entries (ignore rules applied), sorted, under `prefix`, files unread; walked and read with src/plugin-files' bounds. */
export async function listPlugin(dir: string, ignore: Ignore, prefix = 'plugin'): Promise<LazyEntry[]> {
  const { folder, entries } = await walkPluginTree(dir, {
    code: 'build-failed',
    ignore: (rel, isDir) => ignore(rel, isDir) || (!rel.includes('/') && NOT_IN_IMAGE.has(rel)),
    hint: 'list what the image does not need in .airlockignore',
  });
  const out: LazyEntry[] = [{ path: `${prefix}/`, type: 'dir' }];
  for (const e of entries) {
    if (e.type === 'dir') out.push({ path: `${prefix}/${e.rel}/`, type: 'dir' });
    else if (e.type === 'symlink') out.push({ path: `${prefix}/${e.rel}`, type: 'symlink', linkTarget: e.linkTarget! });
    else
      out.push({
        path: `${prefix}/${e.rel}`,
        type: 'file',
        executable: e.executable,
        // The walker's size is the cap: a file that grew since is refused.
        read: () => readPluginFile(folder, e.rel, { code: 'build-failed', maxBytes: e.size }),
      });
  }
  return out;
}

/** listPlugin() with every file read (small trees: Airlock's own files, tests). */
export async function collectPlugin(dir: string, ignore: Ignore, prefix = 'plugin'): Promise<ContextEntry[]> {
  const out: ContextEntry[] = [];
  for (const { read, ...e } of await listPlugin(dir, ignore, prefix)) out.push(read === undefined ? e : { ...e, data: await read() });
  return out;
}
