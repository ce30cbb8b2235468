/**
 * Core modules are compiled once per process while a plugin holds them
 * (src/engines/wasm/modules.ts): a second load of the same component
 * compiles nothing, and its workers run the shared modules.
 */
import test from 'ava';
import { WasmEngine } from '../../../src/engines/wasm/index.ts';
import { compileCount, compileCore } from '../../../src/engines/wasm/modules.ts';
import { fixtureComponent, fixtureGrants } from './helpers.ts';

const engine = new WasmEngine();
test.after.always(() => engine.close());

test.serial('a second load of a component compiles no core module, and both loads answer', async (t) => {
  const artefact = { kind: 'component', path: await fixtureComponent('echo-c') } as const;
  const first = await engine.load(fixtureGrants('echo-c'), artefact);
  t.teardown(() => first.close());
  const before = compileCount.value;
  const second = await engine.load(fixtureGrants('echo-c'), artefact);
  t.teardown(() => second.close());
  t.is(compileCount.value, before);
  const input = '{"message":"hi"}';
  t.is((await first.call('echo', input)).output, (await second.call('echo', input)).output);
});

test.serial('different bytes (another memory cap) compile separately; the same bytes at once compile once', async (t) => {
  // The smallest module: magic and version.
  const a = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
  const before = compileCount.value;
  const [m1, m2] = await Promise.all([compileCore(a), compileCore(a.slice())]);
  t.is(m1, m2);
  t.is(compileCount.value, before + 1);
  // A custom section makes other bytes.
  const b = new Uint8Array([...a, 0, 2, 1, 120]);
  t.not(await compileCore(b), m1);
  t.is(compileCount.value, before + 2);
});
