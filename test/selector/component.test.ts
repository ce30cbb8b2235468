import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { componentStatus } from '../../src/selector/index.ts';

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
