/**
 * A component's node_modules is bundled into it (src/build/wasm.ts), so the host's content hash
 * (src/host/loaded.ts) counts it: reload() after an edited dependency swaps in the rebuilt component.
 * A Docker plugin's node_modules stays out (its image installs the dependencies).
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { PluginHost } from '../../src/host/index.ts';
import { tempDir } from '../helpers/plugin.ts';

test('reload() after an edit inside a component plugin node_modules rebuilds it, and the call answers with the new dependency', async (t) => {
  t.timeout(10 * 60_000);
  const dir = join(tempDir('airlock-host-deps-'), 'deps-js');
  await cp(join(FIXTURES_DIR, 'deps-js'), dir, { recursive: true });
  const host = new PluginHost();
  t.teardown(() => host.close());
  await host.load(dir);
  t.deepEqual((await host.call('deps-js_greet', { name: 'Ada' })).value, { greeting: 'Hello, Ada!' });
  t.false(await host.reload('deps-js'), 'nothing changed');

  const dep = join(dir, 'node_modules/tiny-greet/index.js');
  await writeFile(dep, (await readFile(dep, 'utf8')).replace('Hello', 'Howdy'));
  t.true(await host.reload('deps-js'));
  t.deepEqual((await host.call('deps-js_greet', { name: 'Ada' })).value, { greeting: 'Howdy, Ada!' });
});
