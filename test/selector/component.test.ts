import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { componentStatus } from '../../src/selector/index.ts';
import { tempDir } from '../helpers/plugin.ts';

test('componentStatus tells components from core modules, other files and missing files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-sel-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'c.wasm'), Uint8Array.of(0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 9));
  await writeFile(join(dir, 'm.wasm'), Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0));
  await writeFile(join(dir, 'x.wasm'), 'hello');
  t.deepEqual(await componentStatus(join(dir, 'c.wasm')), { status: 'ok' });
  const core = await componentStatus(join(dir, 'm.wasm'));
  t.is(core.status, 'invalid');
  t.regex(core.reason ?? '', /core wasm module/);
  t.is((await componentStatus(join(dir, 'x.wasm'))).status, 'invalid');
  t.is((await componentStatus(join(dir, 'nope.wasm'))).status, 'missing');
});

test('a component that is a FIFO, a device, a link out of the plugin folder or over the size cap is invalid, read without blocking', async (t) => {
  const { mkdirSync, truncateSync, writeFileSync: write } = await import('node:fs');
  const { device, fifo, linkTo } = await import('../helpers/hostile-files.ts');
  const { MAX_COMPONENT_BYTES } = await import('../../src/plugin-files/index.ts');
  const dir = tempDir();
  mkdirSync(join(dir, 'p'));
  const plugin = join(dir, 'p');
  fifo(join(plugin, 'fifo.wasm'));
  device(join(plugin, 'dev.wasm'));
  write(join(dir, 'outside.wasm'), '');
  linkTo(join(dir, 'outside.wasm'), join(plugin, 'out.wasm'));
  write(join(plugin, 'big.wasm'), '');
  truncateSync(join(plugin, 'big.wasm'), MAX_COMPONENT_BYTES + 1);
  for (const [name, reason] of [
    ['fifo.wasm', /FIFO/],
    ['dev.wasm', /character device/],
    ['out.wasm', /outside the plugin folder/],
    ['big.wasm', /the limit is 268435456/],
  ] as const) {
    const status = await componentStatus(join(plugin, name), plugin);
    t.is(status.status, 'invalid', name);
    t.regex(status.status === 'invalid' ? (status.reason ?? '') : '', reason);
  }
});
