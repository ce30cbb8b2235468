/** Build inputs read by src/build/wasm.ts, when hostile: build-failed (or invalid-manifest for plugin.yaml), never a hang. */
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildPlugin } from '../../src/build/index.ts';
import { AirlockError } from '../../src/errors.ts';
import { device, fifo, linkTo, loop, socket } from '../helpers/hostile-files.ts';
import { manifestObject, tempDir } from '../helpers/plugin.ts';

const cacheRoot = tempDir('airlock-build-inputs-');

for (const [name, make] of [
  ['a FIFO', fifo],
  ['a device', device],
  ['a socket', socket],
  ['a symlink loop', (p: string) => loop(p, `${p}.2`)],
  ['a symlink out of the folder', (p: string) => linkTo('/etc/hostname', p)],
] as const) {
  test(`an entry that is ${name} fails the build with build-failed naming it`, async (t) => {
    const dir = tempDir();
    make(join(dir, 'bad.wasm'));
    const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot, entry: 'bad.wasm' }), { instanceOf: AirlockError });
    t.is(err?.code, 'build-failed');
    t.true(err?.message.includes('bad.wasm'), err?.message);
  });

  test(`a wit/*.wit file or other source that is ${name} fails the build with build-failed before any toolchain runs`, async (t) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'main.py'), 'class Tools: pass\n');
    mkdirSync(join(dir, 'wit'));
    make(join(dir, 'wit', 'extra.wit'));
    const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot, entry: 'main.py' }), { instanceOf: AirlockError });
    t.is(err?.code, 'build-failed');
    t.true(err?.message.includes('extra.wit'), err?.message);
  });
}

test('the entry comes from the one manifest reader: a FIFO plugin.yaml is invalid-manifest, not a hang', async (t) => {
  const dir = tempDir();
  fifo(join(dir, 'plugin.yaml'));
  const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot }), { instanceOf: AirlockError });
  t.is(err?.code, 'invalid-manifest');
  const ok = tempDir();
  writeFileSync(join(ok, 'plugin.yaml'), stringify(manifestObject({ runtime: 'wasm', entry: 'x.wasm' })));
  writeFileSync(join(ok, 'x.wasm'), 'not wasm');
  t.regex((await t.throwsAsync(buildPlugin(ok, { cacheRoot }), { instanceOf: AirlockError }))?.message ?? '', /x\.wasm: not a WebAssembly component or module/);
});
