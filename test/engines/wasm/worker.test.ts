/**
 * The worker thread's own environment, with a stand-in glue module (plain
 * JS exporting `instantiate`) instead of a transpiled component, so the test
 * sees exactly what a worker sees.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WasmEngine } from '../../../src/engines/wasm/index.ts';
import { isAirlockError } from '../../../src/errors.ts';
import { makeGrants } from '../../helpers/grants.ts';

const dir = mkdtempSync(join(tmpdir(), 'airlock-glue-'));
const glue = join(dir, 'glue.js');
writeFileSync(
  glue,
  `import { threadId } from 'node:worker_threads';
export function instantiate(getCoreModule, imports) {
  const mod = getCoreModule('m.core.wasm');
  return { 'airlock:plugin/tools@0.1.0': { call(name, input) {
    if (name === 'exit') process.exit(3);
    return JSON.stringify({
      env: { ...process.env },
      argv: process.argv.slice(2),
      threadId,
      isModule: mod instanceof WebAssembly.Module,
      wasiKeys: Object.keys(imports).filter((k) => k.startsWith('wasi:')).length,
    });
  } } };
}
`,
);
// The smallest valid core module: the worker must receive it compiled.
const emptyModule = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0]);
const engine = new WasmEngine({ transpile: async () => ({ glue: pathToFileURL(glue).href, modules: { 'm.core.wasm': emptyModule } }) });
test.after.always(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Seen {
  env: Record<string, string>;
  argv: string[];
  threadId: number;
  isModule: boolean;
  wasiKeys: number;
}

test('a worker runs with an empty env, no argv of the host, and compiled modules from the host', async (t) => {
  process.env.AIRLOCK_TEST_SECRET = 'hunter2';
  const p = await engine.load(makeGrants({ plugin: { name: 'weather' }, env: { GRANTED: 'yes' } }), { kind: 'component', path: '/unused.wasm' });
  const seen = JSON.parse((await p.call('whoami', '{}')).output) as Seen;
  t.deepEqual(seen.env, {});
  // Workers start blank (a standby serves any plugin); the guest's argv = [plugin name] is the env capability's.
  t.deepEqual(seen.argv, []);
  t.true(seen.isModule);
  t.true(seen.wasiKeys > 10);
  await p.close();
});

test('each plugin gets its own workers', async (t) => {
  const a = await engine.load(makeGrants({ plugin: { name: 'a' } }), { kind: 'component', path: '/unused.wasm' });
  const b = await engine.load(makeGrants({ plugin: { name: 'b' } }), { kind: 'component', path: '/unused.wasm' });
  const ta = (JSON.parse((await a.call('x', '{}')).output) as Seen).threadId;
  const tb = (JSON.parse((await b.call('x', '{}')).output) as Seen).threadId;
  t.not(ta, tb);
  await a.close();
  await b.close();
});

test('a worker that dies mid-call gives crash, and a fresh worker takes its place', async (t) => {
  const p = await engine.load(makeGrants(), { kind: 'component', path: '/unused.wasm' });
  const before = (JSON.parse((await p.call('x', '{}')).output) as Seen).threadId;
  const e = await p.call('exit', '{}').catch((x: unknown) => x);
  t.true(isAirlockError(e, 'crash'), String(e));
  const after = (JSON.parse((await p.call('x', '{}')).output) as Seen).threadId;
  t.not(after, before);
  await p.close();
});

test('a component that fails to start makes load() fail, without a respawn loop', async (t) => {
  const bad = join(dir, 'bad-glue.js');
  writeFileSync(bad, `export function instantiate() { throw new Error('init exploded'); }\n`);
  const e2 = new WasmEngine({ transpile: async () => ({ glue: pathToFileURL(bad).href, modules: {} }) });
  const e = await e2.load(makeGrants({ resources: { concurrency: 2 } }), { kind: 'component', path: '/unused.wasm' }).catch((x: unknown) => x);
  t.true(isAirlockError(e), String(e));
  t.regex((e as Error).message, /init exploded/);
  await e2.close();
});
