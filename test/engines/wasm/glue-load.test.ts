/**
 * The glue as a classic script with V8's code cache
 * (src/engines/wasm/glue-file.ts glueScript, ./glue-load.ts): the script
 * form runs the component like the module form, the first load writes the
 * cache once its call has run, the next load takes it, and a glue of
 * another shape stays a module.
 */
import test from 'ava';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { prepareCoreModule, wasiPlan } from '../../../src/capabilities/index.ts';
import { loadWasi } from '../../../src/capabilities/worker.ts';
import { glueFiles, glueScript } from '../../../src/engines/wasm/glue-file.ts';
import { WasmEngine } from '../../../src/engines/wasm/index.ts';
import { standby } from '../../../src/engines/wasm/standby.ts';
import type { WasmWorkerMessage } from '../../../src/protocol.ts';
import { loadGlue, type LoadedGlue } from '../../../src/engines/wasm/glue-load.ts';
import { createInstance, runCall } from '../../../src/engines/wasm/instance.ts';
import { compileCore } from '../../../src/engines/wasm/modules.ts';
import { transpileComponent } from '../../../src/engines/wasm/transpile.ts';
import type { TranspiledComponent } from '../../../src/engines/wasm/types.ts';
import { cacheDir } from '../../../src/paths.ts';
import { rejection } from '../../helpers/rejection.ts';
import { fixtureComponent, fixtureGrants } from './helpers.ts';

const grants = fixtureGrants('echo-c');
const t0 = await transpileComponent(await fixtureComponent('echo-c'));
const modules = Object.fromEntries(
  await Promise.all(Object.entries(t0.modules).map(async ([n, b]) => [n, await compileCore(prepareCoreModule(grants, b, n))] as const)),
);
const wasi = await loadWasi(grants, wasiPlan(t0.imports));
const dir = mkdtempSync(join(tmpdir(), 'airlock-glue-load-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** One call of echo-c's echo through `glue`. */
function echo(glue: LoadedGlue, message: string): string {
  const r = runCall(createInstance(glue.instantiate, modules, wasi), grants, 'echo', JSON.stringify({ message }));
  if (r.response.kind !== 'ok') throw new Error(JSON.stringify(r.response));
  return r.response.output;
}

test.serial('the script form of jco glue runs the component; the first load writes the code cache after its call, the next load takes it', async (t) => {
  const script = glueScript(t0.glueSource as string);
  if (script === undefined) return t.fail('jco glue has the shape glueScript expects');
  const path = join(dir, 'glue.js');
  const cache = join(dir, 'glue.code');
  writeFileSync(path, script);
  const data = { glueUrl: 'file:///unused.mjs', glueName: t0.glue, glueScript: { path, cache } };

  const first = await loadGlue(data);
  t.false(first.fromCache);
  const out = echo(first, 'one');
  t.false(existsSync(cache), 'nothing written before the first call is done');
  first.saveCache();
  t.true(existsSync(cache));

  const second = await loadGlue(data);
  t.true(second.fromCache, 'V8 took the cache');
  t.is(echo(second, 'one'), out);
  t.not(echo(second, 'two'), out);
});

test('a glue that imports or exports anything else stays a module', (t) => {
  t.is(glueScript(`import { x } from 'y';\nexport function instantiate() {}\n`), undefined);
  t.is(glueScript(`export function instantiate() { return import('y'); }\n`), undefined);
  t.is(glueScript(`export function instantiate() {}\nexport default 1;\n`), undefined);
  t.is(glueScript(`export function other() {}\n`), undefined);
  t.is(typeof glueScript(`"use components";\nexport function instantiate() {}\nexport const _util = {\n}\n`), 'string');
});

test('without a script form the glue is imported as a module', async (t) => {
  const path = join(dir, 'module.mjs');
  writeFileSync(path, `import { threadId } from 'node:worker_threads';\nexport function instantiate() { return threadId; }\n`);
  const glue = await loadGlue({ glueUrl: pathToFileURL(path).href, glueName: path });
  t.false(glue.fromCache);
  t.is(typeof glue.instantiate, 'function');
});

/** echo-c's transpile with a glue text of its own (a comment added): its code cache is this test's alone, not shared with other tests'. */
function ownGlue(): { transpile: () => Promise<TranspiledComponent>; source: string } {
  const source = `${t0.glueSource as string}\n// ${randomUUID()}\n`;
  return { source, transpile: async () => ({ ...t0, glueSource: source }) };
}

test.serial("the engine's first worker of a plugin writes the glue's code cache before its first answer, and the next load runs", async (t) => {
  const path = await fixtureComponent('echo-c');
  const own = ownGlue();
  const files = await glueFiles(own.source, pathToFileURL(t0.glue).href);
  const cache = files.script?.cache;
  if (cache === undefined) return t.fail('echo-c glue has a script form');
  t.teardown(() => rmSync(cache, { force: true }));
  const engine = new WasmEngine({ transpile: own.transpile });
  t.teardown(() => engine.close());
  const first = await engine.load(grants, { kind: 'component', path });
  t.false(existsSync(cache), 'no cache before any call');
  t.is((await first.call('echo', '{"message":"a"}')).output, '{"message":"a"}');
  // Written before the answer: a host that closes the plugin on the answer still leaves it.
  t.true(existsSync(cache));
  await first.close();
  const second = await engine.load(grants, { kind: 'component', path });
  t.is((await second.call('echo', '{"message":"b"}')).output, '{"message":"b"}');
});

test.serial('the code cache outlives the process that wrote it: the next process takes it and writes none', async (t) => {
  const own = ownGlue();
  const files = await glueFiles(own.source, pathToFileURL(t0.glue).href);
  const cache = files.script?.cache;
  if (files.script === undefined || cache === undefined) return t.fail('echo-c glue has a script form');
  t.teardown(() => rmSync(cache, { force: true }));
  t.true(cache.startsWith(cacheDir('glue-code')), 'under the Airlock cache, not the process folder');
  const data = { glueUrl: files.url, glueName: t0.glue, glueScript: files.script };
  // Another process: its own private folder, the same cache file.
  const script = `
    const { loadGlue } = await import(${JSON.stringify(new URL('../../../src/engines/wasm/glue-load.ts', import.meta.url).href)});
    const glue = await loadGlue(${JSON.stringify(data)});
    glue.saveCache();
    process.stdout.write(String(glue.fromCache));
  `;
  const run = async (): Promise<string> =>
    (await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: process.env, timeout: 60_000 })).stdout;
  t.is(await run(), 'false', 'the first process compiles the glue');
  const written = statSync(cache, { bigint: true });
  t.is(await run(), 'true', 'the next process takes the cache');
  const after = statSync(cache, { bigint: true });
  t.deepEqual([after.ino, after.mtimeNs], [written.ino, written.mtimeNs], 'and writes none');
});

test.serial(
  "a standby started after an adoption compiles that plugin's glue ahead: its next worker gets it ready, another plugin's worker loads its own",
  async (t) => {
    // How each worker started from here on got its glue, in the order they said ready.
    const readies: (string | undefined)[] = [];
    const onWorker = (m: unknown): void => {
      (m as { worker: Worker }).worker.on('message', (msg: WasmWorkerMessage) => {
        if (msg?.type === 'ready') readies.push(msg.glue);
      });
    };
    subscribe('worker_threads', onWorker);
    t.teardown(() => unsubscribe('worker_threads', onWorker));
    const engine = new WasmEngine({ standby: 1 });
    t.teardown(() => engine.close());
    const echoC = { kind: 'component', path: await fixtureComponent('echo-c') } as const;
    const first = await engine.load(grants, echoC);
    t.is((await first.call('echo', '{"message":"a"}')).output, '{"message":"a"}');
    // The standby now holds a worker started after that adoption.
    await standby.threads();
    const seen = readies.length;
    const second = await engine.load(grants, echoC);
    t.deepEqual(readies.slice(seen), ['prepared'], 'the standby had compiled echo-c glue');
    t.is((await second.call('echo', '{"message":"b"}')).output, '{"message":"b"}');
    await standby.threads();
    const other = await engine.load(fixtureGrants('state'), { kind: 'component', path: await fixtureComponent('state') });
    t.is(readies.length, seen + 2);
    t.not(readies.at(-1), 'prepared', "a standby guessing echo-c's glue loads state's itself");
    t.is((await other.call('count', '{}')).output, '1');
  },
);

test.serial('a component that fails at start still fails load() when a standby compiled its glue ahead', async (t) => {
  const glueSource = `export function instantiate() { throw new Error('start trapped ${randomUUID()}'); }\n`;
  const engine = new WasmEngine({ standby: 1, transpile: async () => ({ glue: pathToFileURL(join(dir, 'failing.js')).href, glueSource, modules: {} }) });
  t.teardown(() => engine.close());
  const plugin = { kind: 'component', path: '/unused.wasm' } as const;
  const first = await rejection(engine.load(grants, plugin));
  t.regex(String(first), /start trapped/);
  // The standby now guesses this glue; adopting it must fail the same way.
  await standby.threads();
  const second = await rejection(engine.load(grants, plugin));
  t.regex(String(second), /start trapped/);
});
