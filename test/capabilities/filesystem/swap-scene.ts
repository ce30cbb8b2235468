/**
 * The scene of review finding #1, shared by the swap tests: a granted folder
 * `w/sub` holding `f` ("granted") and a secret folder beside it holding `f`
 * ("SECRET"), and the moves a plugin with write access to `w/` could make.
 * Folders are removed when the test process exits (tempDir).
 */
import { mkdirSync, realpathSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FilesystemGrant } from '../../../src/grants/types.ts';
import { tempDir } from '../../helpers/plugin.ts';

export interface SwapScene {
  root: string;
  granted: string;
  secret: string;
  /** `granted`, read-write, at /data. */
  grant: FilesystemGrant;
  /** Renames the grant away and leaves a symlink to the secret in its place. */
  swap(): void;
  /** The same one level up: `w` becomes a symlink to a folder whose `sub` is the secret. */
  swapParent(): void;
}

export function swapScene(): SwapScene {
  const root = realpathSync(tempDir('airlock-swap-'));
  const granted = join(root, 'w', 'sub');
  const secret = join(root, 'secret');
  mkdirSync(granted, { recursive: true });
  mkdirSync(secret);
  writeFileSync(join(granted, 'f'), 'granted');
  writeFileSync(join(secret, 'f'), 'SECRET');
  return {
    root,
    granted,
    secret,
    grant: { hostPath: granted, mount: '/data', access: 'read-write' },
    swap: () => {
      renameSync(granted, join(root, 'w', 'away'));
      symlinkSync(secret, granted);
    },
    swapParent: () => {
      const fake = join(root, 'fake');
      mkdirSync(fake);
      symlinkSync(secret, join(fake, 'sub'));
      renameSync(join(root, 'w'), join(root, 'w-away'));
      symlinkSync(fake, join(root, 'w'));
    },
  };
}
