import test from 'ava';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { componentEmbed, componentNew, componentWit } from '@bytecodealliance/jco';
import { buildPlugin } from '../../src/build/index.ts';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { AirlockError } from '../../src/errors.ts';
import { compileCoreModule } from '../helpers/core-module.ts';

const tmp = await mkdtemp(join(tmpdir(), 'airlock-build-test-'));
const cacheRoot = join(tmp, 'cache');
test.after.always(() => rm(tmp, { recursive: true, force: true }));

async function copyFixture(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmp, `${name}-`));
  await cp(join(FIXTURES_DIR, name), dir, { recursive: true });
  return dir;
}

test.serial('a C plugin builds into a component exporting airlock:plugin/tools, and an unchanged one is not rebuilt', async (t) => {
  const dir = await copyFixture('echo-c');
  const first = await buildPlugin(dir, { cacheRoot });
  t.false(first.cached);
  t.regex(await componentWit(await readFile(first.componentPath)), /export airlock:plugin\/tools@0\.1\.0;/);
  const second = await buildPlugin(dir, { cacheRoot });
  t.true(second.cached);
  t.is(second.componentPath, first.componentPath);

  await writeFile(join(dir, 'echo.c'), `${await readFile(join(dir, 'echo.c'), 'utf8')}\n/* changed */\n`);
  const third = await buildPlugin(dir, { cacheRoot });
  t.false(third.cached);
  t.not(third.hash, first.hash);
});

test.serial('a C compile error is a build-failed error naming the file', async (t) => {
  const dir = await copyFixture('echo-c');
  await writeFile(join(dir, 'echo.c'), 'int tool( {');
  const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
  t.true(err?.message.includes(join(dir, 'echo.c')));
});

test.serial('a WASI core module entry is wrapped into a component with the preview1 adapter', async (t) => {
  const dir = await copyFixture('echo-c');
  compileCoreModule(join(dir, 'echo.c'), join(dir, 'core.wasm'));
  const r = await buildPlugin(dir, { cacheRoot, entry: 'core.wasm' });
  const wit = await componentWit(await readFile(r.componentPath));
  t.regex(wit, /export airlock:plugin\/tools@0\.1\.0;/);
});

test.serial('a prebuilt component is used as is, and one lacking the tools export is rejected', async (t) => {
  const dir = await copyFixture('echo-c');
  const good = await buildPlugin(dir, { cacheRoot });
  await cp(good.componentPath, join(dir, 'good.wasm'));
  const reused = await buildPlugin(dir, { cacheRoot, entry: 'good.wasm' });
  t.deepEqual(await readFile(reused.componentPath), await readFile(good.componentPath));

  const emptyCore = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  const embedded = await componentEmbed({ binary: emptyCore, witSource: 'package test:empty;\nworld empty {}\n', world: 'empty' });
  await writeFile(join(dir, 'empty.wasm'), await componentNew(embedded));
  const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot, entry: 'empty.wasm' }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
  t.regex(err?.message ?? '', /does not export airlock:plugin\/tools/);
});

test.serial('a missing entry or an unknown entry type is a build-failed error', async (t) => {
  const dir = await copyFixture('echo-c');
  t.is((await t.throwsAsync(buildPlugin(dir, { cacheRoot, entry: 'nope.c' })))?.message.includes('nope.c'), true);
  await writeFile(join(dir, 'x.rs'), '');
  const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot, entry: 'x.rs' }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
});
