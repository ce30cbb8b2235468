/** Grants built directly for engine and capability tests (no manifest, no policy). */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { Grants, ResourceGrants } from '../../src/grants/types.ts';
import type { LoadedManifest } from '../../src/manifest/index.ts';

export type GrantsOverrides = Partial<Omit<Grants, 'resources' | 'plugin'>> & {
  resources?: Partial<ResourceGrants>;
  plugin?: Partial<Grants['plugin']>;
};

export function makeGrants(o: GrantsOverrides = {}): Grants {
  return {
    plugin: { name: 'test-plugin', version: '0.1.0', runtime: 'wasm', dir: '/nonexistent', entry: '/nonexistent/plugin.wasm', ...o.plugin },
    filesystem: o.filesystem ?? [],
    network: o.network ?? null,
    env: o.env ?? {},
    isolation: o.isolation ?? 'pooled',
    ...(o.unboundedWrites === undefined ? {} : { unboundedWrites: o.unboundedWrites }),
    ...(o.idleMs === undefined ? {} : { idleMs: o.idleMs }),
    ...(o.kubernetes === undefined ? {} : { kubernetes: o.kubernetes }),
    resources: {
      memoryBytes: 64 * 1024 * 1024,
      cpu: 1,
      timeoutMs: 10_000,
      concurrency: 1,
      outputBytes: 1024 * 1024,
      logBytes: 64 * 1024,
      queue: 16,
      diskBytes: 64 * 1024 * 1024,
      files: 1000,
      ...o.resources,
    },
  };
}

/** Grants for a loaded plugin folder, with overrides (the plugin fields come from its manifest). */
export function grantsForManifest(m: LoadedManifest, o: GrantsOverrides = {}): Grants {
  return makeGrants({
    ...o,
    plugin: {
      name: m.manifest.name,
      version: m.manifest.version,
      runtime: m.runtime,
      dir: realpathSync(m.dir),
      entry: realpathSync(join(m.dir, m.manifest.entry)),
      ...(m.manifest.wasm === undefined ? {} : { wasm: realpathSync(join(m.dir, m.manifest.wasm)) }),
      ...o.plugin,
    },
  });
}
