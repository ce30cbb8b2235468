/** Finding a plugin by name (src/cli/plugins.ts) among folders that may be hostile. */
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { resolvePluginArg } from '../../src/cli/plugins.ts';
import { fifo, linkTo } from '../helpers/hostile-files.ts';
import { manifestObject, tempDir } from '../helpers/plugin.ts';

test('a name look-up in ./plugins skips neighbours whose plugin.yaml is a FIFO or /dev/zero, and finds the plugin', async (t) => {
  const cwd = tempDir();
  for (const [name, make] of [
    ['a-fifo', (p: string) => fifo(p)],
    ['b-zero', (p: string) => linkTo('/dev/zero', p)],
  ] as const) {
    mkdirSync(join(cwd, 'plugins', name), { recursive: true });
    make(join(cwd, 'plugins', name, 'plugin.yaml'));
  }
  fifo(join(cwd, 'plugins', 'c-not-a-folder'));
  const good = join(cwd, 'plugins', 'z-good');
  mkdirSync(good);
  writeFileSync(join(good, 'main.py'), '');
  writeFileSync(join(good, 'plugin.yaml'), stringify(manifestObject({ name: 'wanted' })));
  t.is(await resolvePluginArg('wanted', cwd), good);
});
