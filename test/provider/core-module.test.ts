/**
 * A wasm plugin whose entry is a WASI preview1 core module (not a
 * component): `airlock build` wraps it, and every command that opens a
 * plugin (call, list, inspect, and serve through PluginHost) builds it the
 * same way instead of treating it as a broken component.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { PluginHost } from '../../src/host/index.ts';
import { componentStatus } from '../../src/selector/index.ts';
import { cli } from '../helpers/cli.ts';
import { compileCoreModule } from '../helpers/core-module.ts';
import { tempDir } from '../helpers/plugin.ts';

const hasClang = spawnSync('clang', ['--version']).status === 0 || process.env.CI !== undefined;
if (!hasClang) process.stderr.write('\n!!! SKIPPING core-module tests: clang (with wasi-libc) is not installed\n\n');

/** echo-c compiled to a core module (a wasm32-wasip1 reactor), named as the plugin's entry. */
function corePlugin(): string {
  const dir = tempDir();
  cpSync(join(FIXTURES_DIR, 'echo-c'), dir, { recursive: true });
  compileCoreModule(join(dir, 'echo.c'), join(dir, 'core.wasm'));
  writeFileSync(join(dir, 'plugin.yaml'), readFileSync(join(dir, 'plugin.yaml'), 'utf8').replace(/^entry: .*$/m, 'entry: core.wasm'));
  return dir;
}

const withClang = hasClang ? test.serial : test.skip;

withClang('a core-module entry answers airlock call, list and inspect', async (t) => {
  const dir = corePlugin();
  t.like(await componentStatus(join(dir, 'core.wasm')), { status: 'invalid', core: true });
  const call = await cli(['call', dir, 'echo', '{"text":"from a core module"}']);
  t.is(call.code, 0, call.stderr);
  t.deepEqual(JSON.parse(call.stdout), { text: 'from a core module' });
  const list = await cli(['list', dir]);
  t.is(list.code, 0, list.stderr);
  t.regex(list.stdout, /echo-c_echo/);
  t.regex(list.stdout, /engine: wasm /);
  const inspect = await cli(['inspect', dir]);
  t.is(inspect.code, 0, inspect.stderr);
  t.regex(inspect.stdout, /engine {5}wasm \(/);
});

withClang('a core-module entry loads and answers through PluginHost (what serve uses)', async (t) => {
  const host = new PluginHost();
  t.teardown(() => host.close());
  const summary = await host.load(corePlugin());
  t.is(summary.engine, 'wasm');
  t.is((await host.call('echo-c_add', { a: 2, b: 3 })).output, '5');
});

test('a core module lacking the tools export is build-failed naming the exports it needs', async (t) => {
  const dir = tempDir();
  cpSync(join(FIXTURES_DIR, 'echo-c'), dir, { recursive: true });
  writeFileSync(join(dir, 'empty.wasm'), Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00));
  writeFileSync(join(dir, 'plugin.yaml'), readFileSync(join(dir, 'plugin.yaml'), 'utf8').replace(/^entry: .*$/m, 'entry: empty.wasm'));
  const call = await cli(['call', dir, 'echo', '{}']);
  t.is(call.code, 1);
  t.regex(
    call.stderr,
    /build-failed: .*empty\.wasm: cannot make a component from the core module.*export `airlock:plugin\/tools@0\.1\.0#call` and `cabi_realloc`/s,
  );
});
