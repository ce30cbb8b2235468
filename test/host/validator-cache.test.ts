/**
 * A tool schema's compiled validator is kept (src/host/validator-cache.ts):
 * a later ToolValidators of the same schema runs the kept code, with the same
 * verdicts and errors and its patterns on RE2; an entry serves only the
 * schema text it was generated from; and a fresh process whose validators are
 * kept loads and calls a plugin without loading Ajv.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PREPARE_LOOKUPS, prepareValidators, ToolValidators } from '../../src/host/catalog.ts';
import { recalledValidatorCode, validatorEntryName } from '../../src/host/validator-cache.ts';
import { toDraft2020 } from '../../src/manifest/dialect.ts';
import { tempDir } from '../helpers/plugin.ts';
import { fixture } from './helpers.ts';

// This test file's own cache (ava runs each file in its own thread, with its own environment).
process.env.AIRLOCK_CACHE_DIR = tempDir('airlock-cache-');
const checks = () => join(process.env.AIRLOCK_CACHE_DIR as string, 'manifest-checks');

/** The turn after a compile, when its code is written down. */
const kept = () => new Promise((r) => setImmediate(r));

function errorsOf(v: ToolValidators, input: unknown): string[] | undefined {
  try {
    v.checkInput('t', input, JSON.stringify(input), Date.now() + 60_000);
    return undefined;
  } catch (err) {
    return (err as { problems: { message: string }[] }).problems.map((p) => p.message);
  }
}

test.serial('a kept validator gives the verdicts and errors Ajv gave, and runs its patterns on RE2', async (t) => {
  const input = {
    type: 'object',
    properties: { name: { type: 'string', pattern: '^(a+)+$' }, n: { type: 'integer', minimum: 1 }, tags: { type: 'array', uniqueItems: true } },
    required: ['name'],
    additionalProperties: false,
  };
  const tool = { name: 't', description: 'd', input };
  const inputs = [{ name: 'aaa', n: 2 }, { n: 0 }, { name: `${'a'.repeat(64)}!` }, { name: 'a', tags: [1, 1] }, { name: 'a', extra: true }, 'text'];
  const compiled = new ToolValidators(tool);
  const fromAjv = inputs.map((i) => errorsOf(compiled, i));
  await kept();
  t.truthy(recalledValidatorCode(toDraft2020(input)));
  const recalled = new ToolValidators(tool);
  t.true(recalled.recall(), 'its code was kept');
  // 64 a's and a '!' under ^(a+)+$: backtracking would not end; RE2 answers at once.
  t.deepEqual(
    inputs.map((i) => errorsOf(recalled, i)),
    fromAjv,
  );
  t.is(fromAjv[0], undefined);
  t.true(fromAjv[2]?.[0]?.includes('must match pattern'));
});

test.serial('a validator kept for one schema text is not used for another, even copied under its name', async (t) => {
  const a = { type: 'object', properties: { x: { type: 'string' } }, required: ['x'] };
  const b = { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] };
  new ToolValidators({ name: 'a', description: 'd', input: a }).input;
  await kept();
  t.truthy(recalledValidatorCode(toDraft2020(a)));
  t.is(recalledValidatorCode(toDraft2020(b)), undefined);
  // B's name now holds A's code, seal and all (a stray copy, or someone planting it).
  writeFileSync(join(checks(), validatorEntryName(toDraft2020(b))), readFileSync(join(checks(), validatorEntryName(toDraft2020(a)))));
  t.is(recalledValidatorCode(toDraft2020(b)), undefined);
  const v = new ToolValidators({ name: 'b', description: 'd', input: b });
  t.false(v.recall());
  t.is(errorsOf(v, { x: 1 }), undefined);
  t.deepEqual(errorsOf(v, { x: 'one' }), ['input.x must be number']);
});

test.serial('a fresh process whose tool validators are kept loads a plugin and refuses bad input without loading Ajv', async (t) => {
  // A fresh process, as `airlock call` is: whether Ajv is in the module cache after a load and two calls.
  const script = `
    import { createRequire } from 'node:module';
    const { PluginHost } = await import(${JSON.stringify(new URL('../../src/host/index.ts', import.meta.url).href)});
    const ajvLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/ajv/'));
    const instance = { call: async () => ({ output: '{"text":"hi"}', logs: { stdout: '', stderr: '' }, metrics: {} }), close: async () => {} };
    const host = new PluginHost({ provider: { open: async (plugin, grants, preference, options) => { options.onStarting?.(); await new Promise((r) => setTimeout(r, 0)); await new Promise((r) => setImmediate(r)); return { engine: 'wasm', reason: 'test', instance }; }, close: async () => {} } });
    await host.load(${JSON.stringify(fixture('echo-c'))});
    const good = (await host.call('echo-c_add', { a: 1, b: 2 })).value;
    const bad = await host.call('echo-c_add', { a: 'one', b: 2 }).then(() => 'accepted', (e) => e.code);
    await new Promise((r) => setImmediate(r));
    console.log(JSON.stringify({ good, bad, ajv: ajvLoaded() }));
    await host.close();
  `;
  const run = async () => JSON.parse((await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 90_000 })).stdout);
  const first = await run();
  t.deepEqual(first, { good: { text: 'hi' }, bad: 'invalid-input', ajv: true });
  t.deepEqual(await run(), { good: { text: 'hi' }, bad: 'invalid-input', ajv: false });
});

test('a load looks for kept validators up to the first one found, and at no more than PREPARE_LOOKUPS tools however many it has', (t) => {
  let asked = 0;
  const tools = (keptAt: number) =>
    Array.from({ length: PREPARE_LOOKUPS * 4 }, (_, i) => ({ recall: () => (asked++, i === keptAt) }) as unknown as ToolValidators);
  prepareValidators(tools(2));
  t.is(asked, 3);
  asked = 0;
  prepareValidators(tools(-1));
  t.is(asked, PREPARE_LOOKUPS);
});
