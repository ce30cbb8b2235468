/**
 * A swapped artefact in the cache: another plugin's valid component put in
 * place of a plugin's built one. The cache seal (src/cache-integrity.ts)
 * names each file's sha256, so the entry is discarded and rebuilt before an
 * engine runs it; the swapped bytes never run.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPlugin } from '../../src/build/index.ts';
import { PluginHost } from '../../src/host/index.ts';
import { tempDir } from '../helpers/plugin.ts';
import { fixture } from '../host/helpers.ts';

test("another plugin's component swapped into the build cache is discarded and rebuilt; the plugin's own code runs", async (t) => {
  // A copy with a file of its own: a cache entry no other test touches (a C build takes a second).
  const dir = join(tempDir(), 'echo-c');
  cpSync(fixture('echo-c'), dir, { recursive: true });
  writeFileSync(join(dir, 'unique.txt'), randomUUID());
  const own = await buildPlugin(dir);
  const original = readFileSync(own.componentPath);
  const other = await buildPlugin(fixture('echo-js'));
  // A valid component, of another plugin, where the seal names echo-c's.
  writeFileSync(own.componentPath, readFileSync(other.componentPath));
  const host = new PluginHost({ engine: 'wasm' });
  t.teardown(() => host.close());
  await host.load(dir);
  t.deepEqual((await host.call('echo-c_echo', { swapped: false })).value, { swapped: false });
  t.true(readFileSync(own.componentPath).equals(original), 'the entry holds echo-c again');
  const again = await buildPlugin(dir);
  t.true(again.cached);
});
