/**
 * How the CLI finds plugins: a folder path, or a plugin name looked up in the
 * folders of $AIRLOCK_PATH (colon-separated) and then ./plugins.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { AirlockError } from '../errors.ts';

export function searchPath(cwd: string): string[] {
  const fromEnv = (process.env.AIRLOCK_PATH ?? '').split(delimiter).filter((p) => p !== '');
  return [...fromEnv.map((p) => resolve(cwd, p)), join(cwd, 'plugins')];
}

export async function resolvePluginArg(arg: string, cwd: string): Promise<string> {
  const direct = resolve(cwd, arg);
  if (existsSync(direct)) return direct;
  if (/^[a-z0-9-]+$/.test(arg)) {
    for (const root of searchPath(cwd)) {
      if (!existsSync(root) || !statSync(root).isDirectory()) continue;
      // Only folders; each plugin.yaml is read with the bounded reader (off the main thread), so a hostile
      // neighbour (a FIFO or /dev/zero manifest) is skipped as invalid, never blocking the look-up.
      for (const entry of readdirSync(root, { withFileTypes: true })) {
        if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
        const dir = join(root, entry.name);
        // Loaded here: a folder path (the usual argument) needs no manifest check before the host's.
        const { validatePluginOffThread } = await import('../manifest/off-thread.ts');
        const result = await validatePluginOffThread(dir);
        if (result.ok && result.plugin.manifest.name === arg) return dir;
      }
    }
  }
  throw new AirlockError('not-found', `no plugin folder "${arg}", and no plugin named "${arg}" in ${searchPath(cwd).join(', ')}`, {
    details: { hint: 'pass the plugin folder, or put it under ./plugins or a folder in $AIRLOCK_PATH' },
  });
}
