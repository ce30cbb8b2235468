/**
 * The build context of a plugin image: the plugin folder (minus what its
 * ignore file leaves out) under `plugin/`, Airlock's own files under
 * `.airlock/`, as one uncompressed tar in memory. Files go to Docker only as
 * uncompressed archives (a compressed archive sent to a container is unpacked
 * by the container's own tools as host root, GHSA-x86f-5xw2-fm2r). Modes are
 * normalised and times zeroed, so the same files give the same bytes.
 */
import { MANIFEST_FILE } from '../../manifest/index.ts';
import { readPluginFile, walkPluginTree, type Ignore, type TarEntry } from '../../plugin-files/index.ts';

// Ignore files are read and matched by src/plugin-files (bounded, no regular expressions); the tar writer is theirs too.
export { DEFAULT_IGNORES, IGNORE_FILES, ignoreMatcher, pluginIgnore, tar } from '../../plugin-files/index.ts';

export type ContextEntry = TarEntry;

/**
 * Left out of the image: the manifest. Nothing in the container reads it, and what of it shapes the image
 * (entry, `build:`) is in the generated Dockerfile, so changing permissions or limits rebuilds nothing.
 */
const NOT_IN_IMAGE = new Set([MANIFEST_FILE]);

/** The plugin folder's entries (ignore rules applied), sorted, under `prefix`; walked and read with src/plugin-files' bounds. */
export async function collectPlugin(dir: string, ignore: Ignore, prefix = 'plugin'): Promise<ContextEntry[]> {
  const { folder, entries } = await walkPluginTree(dir, {
    code: 'build-failed',
    ignore: (rel, isDir) => ignore(rel, isDir) || (!rel.includes('/') && NOT_IN_IMAGE.has(rel)),
    hint: 'list what the image does not need in .airlockignore',
  });
  const out: ContextEntry[] = [{ path: `${prefix}/`, type: 'dir' }];
  for (const e of entries) {
    if (e.type === 'dir') out.push({ path: `${prefix}/${e.rel}/`, type: 'dir' });
    else if (e.type === 'symlink') out.push({ path: `${prefix}/${e.rel}`, type: 'symlink', linkTarget: e.linkTarget! });
    else
      out.push({
        path: `${prefix}/${e.rel}`,
        type: 'file',
        data: await readPluginFile(folder, e.rel, { code: 'build-failed', maxBytes: e.size }),
        executable: e.executable,
      });
  }
  return out;
}
