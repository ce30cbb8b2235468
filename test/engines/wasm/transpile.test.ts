import test from 'ava';
import { copyFile, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { componentEmbed, componentNew } from '@bytecodealliance/jco';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import { fixtureComponent } from '../../../src/build/fixtures.ts';
import { stripDebugLog, transpileComponent, transpileComponentBytes } from '../../../src/engines/wasm/transpile.ts';
import { AirlockError } from '../../../src/errors.ts';
import { Wasm, type WasmModule } from '../../../src/wasm-api.ts';

const tmp = await mkdtemp(join(tmpdir(), 'airlock-transpile-test-'));
const cacheRoot = join(tmp, 'cache');
test.after.always(() => rm(tmp, { recursive: true, force: true }));

type Tools = { call(name: string, input: string): string };
type Instantiate = (get: (n: string) => WasmModule, imports: object) => { tools: Tools };

async function load(path: string, imports: object): Promise<{ tools: Tools }> {
  const t = await transpileComponent(path, { cacheRoot });
  const mods: Record<string, WasmModule> = {};
  for (const [n, b] of Object.entries(t.modules)) mods[n] = await Wasm.compile(b);
  const { instantiate } = (await import(pathToFileURL(t.glue).href)) as { instantiate: Instantiate };
  return instantiate((n) => {
    const m = mods[n];
    if (m === undefined) throw new Error(`no module ${n}`);
    return m;
  }, imports);
}

test.serial('transpiled echo-c instantiates in-thread and answers echo, add and tool errors', async (t) => {
  const ex = await load(await fixtureComponent('echo-c'), new WASIShim().getImportObject());
  t.is(ex.tools.call('echo', '{"x":[1,"é"]}'), '{"x":[1,"é"]}');
  t.is(ex.tools.call('add', '{"a":1,"b":2.5}'), '3.5');
  let thrown: unknown;
  try {
    ex.tools.call('nope', '{}');
  } catch (e) {
    thrown = e;
  }
  // jco-transpile 0.15 throws the tool-error record itself.
  t.deepEqual(thrown, { code: 'not-found', message: 'no such tool' });
});

test.serial('the second transpile of the same component is a cache hit with the same files', async (t) => {
  const path = await fixtureComponent('echo-c');
  const a = await transpileComponent(path, { cacheRoot });
  const b = await transpileComponent(path, { cacheRoot });
  t.true(b.cached);
  t.is(b.glue, a.glue);
  t.deepEqual(Object.keys(b.modules).sort(), Object.keys(a.modules).sort());
});

test.serial('a component loaded again, unchanged, is served from memory; a rewritten component or a touched cache entry is read again', async (t) => {
  const path = join(tmp, 'memo.wasm');
  await copyFile(await fixtureComponent('echo-c'), path);
  const core = (r: { modules: Record<string, Uint8Array> }): Uint8Array | undefined => r.modules['plugin.core.wasm'];
  const a = await transpileComponent(path, { cacheRoot });
  const b = await transpileComponent(path, { cacheRoot });
  t.true(b.cached);
  t.is(core(b), core(a), 'the same bytes object: nothing was read again');

  // Same bytes written again: a new mtime, so the file is read (and hashed) again; the entry is the same.
  await writeFile(path, await readFile(path));
  const c = await transpileComponent(path, { cacheRoot });
  t.true(c.cached);
  t.not(core(c), core(b));
  t.deepEqual(core(c), core(b));

  // An entry file whose times changed is read and checked against its seal again.
  const glue = join(cacheRoot, c.hash, 'plugin.js');
  await utimes(glue, new Date(), new Date(Date.now() - 60_000));
  const d = await transpileComponent(path, { cacheRoot });
  t.true(d.cached);
  t.not(core(d), core(c));
});

test.serial('the glue no longer reads process.env on calls (JCO_DEBUG check compiled out)', async (t) => {
  const path = await fixtureComponent('echo-c');
  t.false((await readFile((await transpileComponent(path, { cacheRoot })).glue, 'utf8')).includes('JCO_DEBUG'));
  t.true((await readFile((await transpileComponent(path, { cacheRoot, keepDebugLog: true })).glue, 'utf8')).includes('JCO_DEBUG'));
});

test('the debug-log rewrite fails loudly when jco changes the pattern', (t) => {
  t.throws(() => stripDebugLog('const _debugLog = () => { if (process.env.JCO_DEBUG) console.log(1) }'), { instanceOf: AirlockError });
  t.is(stripDebugLog('no logging here'), 'no logging here');
});

test.serial('a missing import fails closed at instantiation', async (t) => {
  const path = await fixtureComponent('echo-c');
  const err = await t.throwsAsync(load(path, {}));
  t.regex(err?.message ?? '', /wasi:/);
});

test.serial('a component lacking the airlock:plugin/tools export is rejected with build-failed', async (t) => {
  const emptyCore = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  const embedded = await componentEmbed({ binary: emptyCore, witSource: 'package test:empty;\nworld empty {}\n', world: 'empty' });
  const err = await t.throwsAsync(transpileComponentBytes(await componentNew(embedded), { cacheRoot }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
  t.regex(err?.message ?? '', /does not export airlock:plugin\/tools/);
});

test('bytes that are not a component are rejected with build-failed', async (t) => {
  const err = await t.throwsAsync(transpileComponentBytes(new Uint8Array([1, 2, 3]), { cacheRoot }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
});

test.serial('the transpiler runs in a bounded child process: past its time bound it is killed, build-failed, and the next transpile succeeds', async (t) => {
  const bytes = new Uint8Array(await readFile(await fixtureComponent('echo-c')));
  const bounded = join(tmp, 'bounded-cache');
  // A child process cannot start in 1 ms; in the host's thread no bound would apply at all.
  const err = await t.throwsAsync(transpileComponentBytes(bytes, { cacheRoot: bounded, timeoutMs: 1 }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
  t.regex(err!.message, /took longer than 1 ms/);
  const ok = await transpileComponentBytes(bytes, { cacheRoot: bounded });
  t.false(ok.cached);
  t.true(Object.keys(ok.modules).length > 0);
});
