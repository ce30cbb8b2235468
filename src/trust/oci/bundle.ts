/**
 * A plugin's source bundle: the files its digest covers (and its signature),
 * as one deterministic tar (src/plugin-files/tar.ts), so a pulled copy has
 * the digest the publisher's folder had. Symlinks are refused: a pulled
 * bundle may hold only regular files and folders.
 */
import { AirlockError } from '../../errors.ts';
import { readPluginFile, tar, walkPluginTree, type TarEntry } from '../../plugin-files/index.ts';
import { outsideDigest, SIGNATURE_FILE } from '../digest.ts';

/** What the content hash always leaves out (src/content-hash.ts), by folder name. */
const NEVER = new Set(['.git', '.airlock-cache']);

export async function sourceBundle(dir: string): Promise<Buffer> {
  const { folder, entries } = await walkPluginTree(dir, {
    code: 'build-failed',
    ignore: (rel) => NEVER.has(rel.slice(rel.lastIndexOf('/') + 1)) || (rel !== SIGNATURE_FILE && outsideDigest(rel)),
    hint: 'move data out of the plugin folder before pushing it',
  });
  const out: TarEntry[] = [];
  for (const e of entries) {
    if (e.type === 'symlink')
      throw new AirlockError('invalid-input', `${e.abs} is a symlink; a pushed plugin holds regular files and folders only (pulled bundles refuse links)`);
    if (e.type === 'dir') out.push({ path: `${e.rel}/`, type: 'dir' });
    else
      out.push({ path: e.rel, type: 'file', data: await readPluginFile(folder, e.rel, { code: 'build-failed', maxBytes: e.size }), executable: e.executable });
  }
  return tar(out);
}
