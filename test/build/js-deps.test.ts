/**
 * JavaScript components with npm dependencies (src/build/bundle-js-child.ts): the entry and what it imports
 * from the plugin's own node_modules are bundled by esbuild in the build sandbox before componentize-js;
 * node_modules is part of the content hash, so an edited dependency is rebuilt without --force; a
 * dependency a component cannot run (Node built-ins, native addons) is a build error naming the import.
 */
import { cp, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { buildPlugin } from '../../src/build/index.ts';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { AirlockError } from '../../src/errors.ts';
import { callJson } from '../helpers/cli-child.ts';

const tmp = await mkdtemp(join(tmpdir(), 'airlock-js-deps-'));
test.after.always(() => rm(tmp, { recursive: true, force: true }));

async function copyFixture(): Promise<string> {
  const dir = await mkdtemp(join(tmp, 'deps-js-'));
  await cp(join(FIXTURES_DIR, 'deps-js'), dir, { recursive: true });
  return dir;
}

const DEP = 'node_modules/tiny-greet/index.js';

test('a JS component importing an npm package from its node_modules builds and answers; an edited dependency changes the answer without --force', async (t) => {
  t.timeout(10 * 60_000);
  const dir = await copyFixture();
  const first = await callJson(dir, 'greet', { name: 'Ada' });
  t.true(first.ok, first.raw.stdout + first.raw.stderr);
  t.deepEqual(first.value, { greeting: 'Hello, Ada!' });

  await writeFile(join(dir, DEP), (await readFile(join(dir, DEP), 'utf8')).replace('Hello', 'Howdy'));
  const second = await callJson(dir, 'greet', { name: 'Ada' });
  t.true(second.ok, second.raw.stdout + second.raw.stderr);
  t.deepEqual(second.value, { greeting: 'Howdy, Ada!' });
});

test('a node_modules past the folder bounds is refused before any build step reads it, with a hint for dependencies', async (t) => {
  const dir = await copyFixture();
  // Sparse: 600 MiB by its size, no disk; the walk refuses it by lstat, before any byte is read or hashed.
  await writeFile(join(dir, 'node_modules/tiny-greet/blob.bin'), '');
  await truncate(join(dir, 'node_modules/tiny-greet/blob.bin'), 600 * 1024 * 1024);
  const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot: join(tmp, 'cache-errors') }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
  t.regex(err?.message ?? '', /holds more than \d+ bytes of files \(at node_modules\/tiny-greet\/blob\.bin\)/);
  t.regex(err?.message ?? '', /npm install --omit=dev/);
});

for (const [what, code, pattern] of [
  ['a node: built-in', 'import { readFileSync } from "node:fs";\nexports.greet = (n) => readFileSync(n);\n', /imports "node:fs", a Node\.js built-in module/],
  ['a bare built-in', 'const fs = require("fs");\nexports.greet = (n) => fs.readFileSync(n);\n', /imports "fs", a Node\.js built-in module/],
  ['a native addon', 'exports.greet = require("./build/Release/greet.node");\n', /imports "\.\/build\/Release\/greet\.node", a native Node\.js addon/],
] as const) {
  test(`a dependency importing ${what} is a build error naming the file, the import and the Docker runtime`, async (t) => {
    const dir = await copyFixture();
    await writeFile(join(dir, DEP), code);
    const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot: join(tmp, 'cache-errors') }), { instanceOf: AirlockError });
    t.is(err?.code, 'build-failed');
    t.true(err?.message.includes(`${join(dir, DEP)}:`), err?.message);
    t.regex(err?.message ?? '', pattern);
    t.regex(err?.message ?? '', /run the plugin on Docker \(`runtime: node`/);
  });
}

test('a missing package is a build error at the import, not a component that fails at call time', async (t) => {
  const dir = await copyFixture();
  await rm(join(dir, 'node_modules'), { recursive: true });
  const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot: join(tmp, 'cache-errors') }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
  t.regex(err?.message ?? '', /main\.js:2:\d+: Could not resolve "tiny-greet"/);
});

test("an import of a file outside the plugin folder is refused, even one the sandbox can see (Airlock's own package.json)", async (t) => {
  const dir = await copyFixture();
  const outside = fileURLToPath(new URL('../../package.json', import.meta.url));
  await writeFile(join(dir, 'main.js'), `import pkg from ${JSON.stringify(outside)};\nexport const tools = { call() { return JSON.stringify(pkg.name); } };\n`);
  const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot: join(tmp, 'cache-errors') }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
  t.regex(err?.message ?? '', /package\.json: resolves outside the plugin folder; install the dependency into the plugin's own node_modules/);
});
