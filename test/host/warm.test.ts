/**
 * A load warms the engine its plugin will likely run on before it hashes,
 * builds and opens (src/host/loaded.ts openPrepared → Pools.warm →
 * EngineProvider.warm), so an engine's slow start (a worker thread) overlaps
 * the host's own work; and Ajv is made ready for the tools' first calls
 * while the engine starts the plugin off the thread (catalog.ts
 * prepareValidators), not after it is ready.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { EnginePlugin } from '../../src/engines/types.ts';
import type { Grants } from '../../src/grants/types.ts';
import { PluginHost } from '../../src/host/index.ts';
import type { EnginePreference, OpenedPlugin } from '../../src/provider/index.ts';
import { tempDir } from '../helpers/plugin.ts';
import { fixture } from './helpers.ts';

/** An engine's plugin that answers `{}` (no engine is needed to see what the host does around it). */
const instance: EnginePlugin = {
  call: async () => ({ output: '{}', logs: { stdout: '', stderr: '' }, metrics: { engine: 'wasm', durationMs: 0, queueMs: 0 } }),
  close: async () => {},
};

test('a load asks the provider to warm the likely engine, with the grants and the engine choice, before it opens', async (t) => {
  const log: string[] = [];
  const host = new PluginHost({
    engines: { 'echo-c': 'wasmtime' },
    provider: {
      warm: (grants: Grants, preference: EnginePreference) => log.push(`warm ${grants.plugin.name} ${preference}`),
      open: async (plugin): Promise<OpenedPlugin> => {
        log.push(`open ${plugin.manifest.name}`);
        return { engine: 'wasm', reason: 'test', instance };
      },
      close: async () => {},
    },
  });
  t.teardown(() => host.close());
  await host.load(fixture('echo-c'));
  t.deepEqual(log, ['warm echo-c wasmtime', 'open echo-c']);
});

test('a provider without warm() is opened as before', async (t) => {
  const host = new PluginHost({ provider: { open: async (): Promise<OpenedPlugin> => ({ engine: 'wasm', reason: 'test', instance }), close: async () => {} } });
  t.teardown(() => host.close());
  t.is((await host.load(fixture('echo-c'))).name, 'echo-c');
});

test('Ajv is loaded while the engine starts the plugin off the thread: once a load has opened, the first call has no Ajv left to load', async (t) => {
  // A fresh process (this one may have loaded Ajv already), with a cache of its own (no tool validator kept:
  // test/host/validator-cache.test.ts has the other case): whether Ajv is in the module cache once the load
  // resolves, the engine having said it is starting (onStarting) and yielded as a worker's start does.
  const script = `
    import { createRequire } from 'node:module';
    const { PluginHost } = await import(${JSON.stringify(new URL('../../src/host/index.ts', import.meta.url).href)});
    const ajvLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/ajv/'));
    const instance = { call: async () => ({ output: '{}', logs: { stdout: '', stderr: '' }, metrics: {} }), close: async () => {} };
    const host = new PluginHost({ provider: { open: async (plugin, grants, preference, options) => { options.onStarting?.(); await new Promise((r) => setTimeout(r, 0)); await new Promise((r) => setImmediate(r)); return { engine: 'wasm', reason: 'test', instance }; }, close: async () => {} } });
    const before = ajvLoaded();
    await host.load(${JSON.stringify(fixture('echo-c'))});
    console.log(JSON.stringify({ before, after: ajvLoaded() }));
    await host.close();
  `;
  const env = { ...process.env, AIRLOCK_CACHE_DIR: tempDir('airlock-cache-') };
  // The default policy's and the manifest's checks kept there first, as any earlier run leaves them.
  const checks = `
    const { defaultPolicy } = await import(${JSON.stringify(new URL('../../src/grants/index.ts', import.meta.url).href)});
    const { validatePlugin } = await import(${JSON.stringify(new URL('../../src/manifest/index.ts', import.meta.url).href)});
    defaultPolicy();
    if (!validatePlugin(${JSON.stringify(fixture('echo-c'))}).ok) process.exit(1);
  `;
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', checks], { timeout: 90_000, env });
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 90_000, env });
  t.deepEqual(JSON.parse(stdout), { before: false, after: true });
});
