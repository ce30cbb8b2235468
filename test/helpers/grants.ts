/** Grants built directly for engine and capability tests (no manifest, no policy). */
import type { Grants, ResourceGrants } from '../../src/grants/types.ts';

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
    resources: {
      memoryBytes: 64 * 1024 * 1024,
      cpu: 1,
      timeoutMs: 10_000,
      concurrency: 1,
      outputBytes: 1024 * 1024,
      logBytes: 64 * 1024,
      queue: 16,
      ...o.resources,
    },
  };
}
