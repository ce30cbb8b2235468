/**
 * A copy of a plugin folder into a build folder, built on the walker and the
 * reader: the same bounds and refusals as every other read of the folder.
 * Files keep their executable bit; a symlink (always inside the folder, the
 * walker refuses others) becomes a relative link to the same place in the
 * copy, so nothing in the copy points back at the plugin folder or out of it.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { readPluginFile } from './read.ts';
import { walkPluginTree, type WalkOptions } from './walk.ts';

export async function copyPluginTree(dir: string, dest: string, o: WalkOptions): Promise<void> {
  const { folder, entries } = await walkPluginTree(dir, o);
  await mkdir(dest, { recursive: true });
  for (const e of entries) {
    const to = join(dest, e.rel);
    if (e.type === 'dir') {
      await mkdir(to, { recursive: true });
    } else if (e.type === 'file') {
      // The walker's size is the cap: a file that grew since is refused, not copied whole.
      const data = await readPluginFile(folder, e.rel, { code: o.code, maxBytes: e.size });
      await writeFile(to, data, { mode: e.executable ? 0o755 : 0o644 });
    } else {
      const inCopy = join(dest, relative(folder.real, e.realTarget!));
      await symlink(relative(dirname(to), inCopy) || '.', to);
    }
  }
}
