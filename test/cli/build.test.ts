import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { cli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/plugin.ts';
import { DOCKER, FIXTURES } from '../engines/docker/helpers.ts';

const COMPONENT_HEADER = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);

test("airlock build makes a wasm plugin's component once; an unchanged plugin is a cache hit", async (t) => {
  const dir = join(tempDir(), 'echo-c');
  cpSync(join(FIXTURES, 'echo-c'), dir, { recursive: true });
  // A nonce makes this copy's content hash new, so the first build really builds.
  writeFileSync(join(dir, 'echo.c'), `${readFileSync(join(dir, 'echo.c'), 'utf8')}\n/* ${process.pid}-${Date.now()} */\n`);
  const first = await cli(['build', dir, '--json']);
  t.is(first.code, 0, first.stderr);
  const [built] = JSON.parse(first.stdout) as Array<{ kind: string; artifact: string; cached: boolean }>;
  t.is(built?.kind, 'component');
  t.false(built?.cached);
  t.deepEqual(readFileSync(built!.artifact).subarray(0, 8), COMPONENT_HEADER);
  const second = await cli(['build', dir]);
  t.is(second.code, 0, second.stderr);
  t.regex(second.stdout, /^cached {2}\S+plugin\.wasm {2}sha256:[0-9a-f]{64}\n$/);
});

test('airlock build names the bad plugin folder and exits 1', async (t) => {
  const r = await cli(['build', join(tempDir(), 'missing')]);
  t.is(r.code, 1);
  t.regex(r.stderr, /missing: no such file or folder/);
});

test('airlock build without a folder is a usage error', async (t) => {
  const r = await cli(['build']);
  t.is(r.code, 2);
});

(DOCKER ? test : test.skip)("airlock build builds a node plugin's image; a second build finds it", async (t) => {
  const first = await cli(['build', join(FIXTURES, 'node-deps'), '--json']);
  t.is(first.code, 0, first.stderr);
  const [image] = JSON.parse(first.stdout) as Array<{ kind: string; artifact: string; cached: boolean; digest?: string }>;
  t.is(image?.kind, 'image');
  // The image id: what the image is, whatever its tag (issue 17).
  t.regex(image?.digest ?? '', /^sha256:[0-9a-f]{64}$/);
  t.regex(image?.artifact ?? '', /^airlock-plugin\/node-deps:[0-9a-f]{24}$/);
  const second = await cli(['build', join(FIXTURES, 'node-deps'), '--json']);
  t.deepEqual(JSON.parse(second.stdout), [{ ...image, cached: true }]);
});
