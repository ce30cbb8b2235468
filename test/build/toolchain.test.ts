/**
 * The build cache answers by source, not by the toolchain: a component built
 * once is served when its toolchain is not on PATH (a desktop app passes
 * PATH=/usr/bin:/bin), and rebuilt only when the toolchain on PATH is another
 * version than the one that built it. componentize-py is found on the host's
 * PATH, so its absence is a PATH (BuildOptions.env) without it; clang is run in
 * the sandbox, found on the sandbox's own PATH (/usr/bin:/bin) whatever the host's.
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { buildPlugin } from '../../src/build/index.ts';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { writeSeal } from '../../src/cache-integrity.ts';
import { AirlockError } from '../../src/errors.ts';

const tmp = await mkdtemp(join(tmpdir(), 'airlock-toolchain-test-'));
test.after.always(() => rm(tmp, { recursive: true, force: true }));

/** An empty folder as the whole PATH: no clang, no componentize-py (componentize-js is an npm package, never on PATH). */
const noTools = { ...process.env, PATH: join(tmp, 'empty-bin') };

async function copyFixture(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmp, `${name}-`));
  await cp(join(FIXTURES_DIR, name), dir, { recursive: true });
  return dir;
}

/** Rewrites the toolchain an entry records (and its seal, so the entry stays intact). */
async function recordToolchain(componentPath: string, toolchain: string): Promise<void> {
  const entry = join(componentPath, '..');
  await writeFile(join(entry, 'toolchain'), toolchain);
  await writeSeal(entry, { 'plugin.wasm': await readFile(componentPath), toolchain });
}

test.serial('a component built with the toolchain is served from the cache when the toolchain is not on PATH', async (t) => {
  const cacheRoot = join(tmp, 'cache-absent');
  const dir = await copyFixture('echo-py');
  const built = await buildPlugin(dir, { cacheRoot });
  t.false(built.cached);
  t.regex(await readFile(join(built.componentPath, '..', 'toolchain'), 'utf8'), /^componentize-py \S+ .* jco \d/);
  const served = await buildPlugin(dir, { cacheRoot, env: noTools });
  t.true(served.cached);
  t.is(served.componentPath, built.componentPath);
  // Even one recorded as built by another version: with no toolchain on PATH nothing could rebuild it.
  await recordToolchain(built.componentPath, 'componentize-py 0.0.0 jco 0.0.0');
  t.true((await buildPlugin(dir, { cacheRoot, env: noTools })).cached);
});

test.serial('a component recorded as built by another toolchain version is rebuilt when the toolchain on PATH differs', async (t) => {
  const cacheRoot = join(tmp, 'cache-differs');
  const dir = await copyFixture('echo-c');
  const first = await buildPlugin(dir, { cacheRoot });
  const record = await readFile(join(first.componentPath, '..', 'toolchain'), 'utf8');
  t.regex(record, /^clang .* jco \d/);
  await recordToolchain(first.componentPath, 'clang version 0.0 (an older one) jco 0.0.0');
  const rebuilt = await buildPlugin(dir, { cacheRoot });
  t.false(rebuilt.cached);
  t.is(rebuilt.componentPath, first.componentPath, 'same source, same cache entry: replaced');
  t.is(await readFile(join(rebuilt.componentPath, '..', 'toolchain'), 'utf8'), record);
  t.true((await buildPlugin(dir, { cacheRoot })).cached);
});

test.serial('with no toolchain on PATH and nothing cached, the build fails with the error naming the missing tool and publishes nothing', async (t) => {
  const cacheRoot = join(tmp, 'cache-empty');
  const py = await copyFixture('echo-py');
  const pyErr = await t.throwsAsync(buildPlugin(py, { cacheRoot, env: noTools }), { instanceOf: AirlockError });
  t.is(pyErr?.code, 'build-failed');
  t.is(pyErr?.message, `${join(py, 'echo.py')}: componentize-py is not installed; pip install componentize-py`);
  t.deepEqual(existsSync(cacheRoot) ? await readdir(cacheRoot) : [], [], 'nothing was published');
});

test('a toolchain version is asked once per binary: a fresh process serving a cached build spawns no compiler, a replaced binary is asked again', async (t) => {
  const { commandVersion } = await import('../../src/build/wasm.ts');
  const bin = join(tmp, 'fake-bin');
  const log = join(tmp, 'fake-tool.log');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(bin, { recursive: true });
  // A tool that records each time it runs.
  const tool = (version: string) =>
    writeFile(join(bin, 'faketool'), `#!/bin/sh\necho run >> ${JSON.stringify(log)}\necho "faketool ${version}"\n`, { mode: 0o755 });
  await tool('1.0');
  const env = { ...process.env, PATH: bin };
  const runs = async () => (existsSync(log) ? (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '').length : 0);
  t.is(await commandVersion('faketool', env), 'faketool 1.0');
  t.is(await commandVersion('faketool', env), 'faketool 1.0');
  t.is(await runs(), 1, 'the second answer came from the cache');
  await tool('2.0.1');
  t.is(await commandVersion('faketool', env), 'faketool 2.0.1');
  t.is(await runs(), 2);
  t.is(await commandVersion('faketool', noTools), undefined, 'not on PATH: no version');
});

test('in a cache that has no toolchain folder yet, a version is remembered too: the next process asks the binary nothing', async (t) => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { mkdir } = await import('node:fs/promises');
  const bin = join(tmp, 'fresh-cache-bin');
  const log = join(tmp, 'fresh-cache-tool.log');
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, 'freshtool'), `#!/bin/sh\necho run >> ${JSON.stringify(log)}\necho "freshtool 3.1"\n`, { mode: 0o755 });
  const env = { ...process.env, AIRLOCK_CACHE_DIR: await mkdtemp(join(tmpdir(), 'airlock-cache-')) };
  const script = `const { commandVersion } = await import(${JSON.stringify(new URL('../../src/build/wasm.ts', import.meta.url).href)});
    process.stdout.write(String(await commandVersion('freshtool', { ...process.env, PATH: ${JSON.stringify(bin)} })));`;
  const ask = async () => (await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env, timeout: 90_000 })).stdout;
  t.is(await ask(), 'freshtool 3.1');
  t.is(await ask(), 'freshtool 3.1');
  t.is((await readFile(log, 'utf8')).split('\n').filter((l) => l !== '').length, 1, 'the second process read it from the cache');
});
