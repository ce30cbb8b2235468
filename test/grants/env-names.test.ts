/**
 * Env names that are also Object.prototype members (`toString`,
 * `constructor`, `hasOwnProperty`) or its accessor (`__proto__`) are ordinary
 * names: granted with the host value when set and allowed, absent when
 * unset, refused with the usual message when not allowed, and carried
 * unchanged by every engine's env mapping.
 */
import { LogCapture } from '../../src/capabilities/index.ts';
import test from 'ava';
import { baselineWasi } from '../../src/capabilities/index.ts';
import { envDocker } from '../../src/capabilities/env/docker.ts';
import { envWasi } from '../../src/capabilities/env/wasi.ts';
import { envWasmtime } from '../../src/capabilities/env/wasmtime.ts';
import { dockerRunSpec } from '../../src/engines/docker/options.ts';
import { wasmtimeCommand } from '../../src/engines/wasmtime/flags.ts';
import { AirlockError } from '../../src/errors.ts';
import { computeGrants, policyFromObject } from '../../src/grants/index.ts';
import { PluginHost } from '../../src/host/index.ts';
import { cli } from '../helpers/cli.ts';
import { manifestObject, tempDir, writePlugin } from '../helpers/plugin.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The WASI baseline (every family), as a worker builds it. */
const BASE = await baselineWasi();

const NAMES = ['toString', 'constructor', '__proto__', 'hasOwnProperty'];

/** A host environment holding `vars` as own properties (a literal `__proto__:` key would set the prototype instead). */
function hostEnv(vars: Array<[string, string]>): Record<string, string> {
  const env = Object.create(null) as Record<string, string>;
  for (const [k, v] of vars) Object.defineProperty(env, k, { value: v, enumerable: true, writable: true, configurable: true });
  return env;
}

const plugin = () => writePlugin(manifestObject({ permissions: { env: NAMES } }));

test('env names toString, constructor, __proto__, hasOwnProperty: granted with the host value when set, absent when unset', (t) => {
  const g = computeGrants(plugin(), policyFromObject({ env: NAMES }), {
    env: hostEnv([
      ['toString', 't-value'],
      ['__proto__', 'p-value'],
    ]),
  });
  t.deepEqual(Object.entries(g.env), [
    ['toString', 't-value'],
    ['__proto__', 'p-value'],
  ]);
  t.is(Object.getPrototypeOf(g.env), null);
  // Unset names are absent, never the inherited function.
  t.false(Object.hasOwn(g.env, 'constructor'));
  t.false(Object.hasOwn(g.env, 'hasOwnProperty'));
  // The real process.env inherits Object.prototype: its toString must not count as a set variable.
  const fromProcess = computeGrants(plugin(), policyFromObject({ env: NAMES }));
  t.deepEqual(
    Object.keys(fromProcess.env).filter((k) => typeof fromProcess.env[k] !== 'string'),
    [],
  );
  t.deepEqual(
    Object.keys(fromProcess.env),
    NAMES.filter((n) => typeof process.env[n] === 'string' && Object.hasOwn(process.env, n)),
  );
  // Grants cross into workers by structured clone: the own `__proto__` survives it.
  t.deepEqual(Object.entries(structuredClone(g.env)), [
    ['toString', 't-value'],
    ['__proto__', 'p-value'],
  ]);
});

test('env names toString, constructor, __proto__, hasOwnProperty: refused with the usual message when the policy does not allow them', (t) => {
  const err = t.throws(() => computeGrants(plugin(), policyFromObject({ env: ['OTHER'] }), { env: hostEnv([['toString', 'x']]) }), {
    instanceOf: AirlockError,
  });
  t.is(err.code, 'permission-denied');
  t.deepEqual(
    err.problems.map((p) => p.message),
    NAMES.map((n) => `environment variable ${n} is not allowed by the host policy`),
  );
});

test('env names toString, constructor, __proto__, hasOwnProperty reach every engine mapping unchanged', (t) => {
  const g = computeGrants(plugin(), policyFromObject({ env: NAMES }), { env: hostEnv(NAMES.map((n) => [n, `${n}-v`])) });
  const expected = NAMES.map((n) => [n, `${n}-v`]);
  const wasi = envWasi(g, { pluginName: 'p', call: { logs: new LogCapture(0), randomBytesLeft: 0 }, base: BASE, shared: {} })['wasi:cli/environment']!;
  t.deepEqual((wasi.getEnvironment as () => unknown)(), expected);
  const wasmtime = envWasmtime(g);
  t.deepEqual(Object.entries(wasmtime.env ?? {}), expected);
  t.deepEqual(wasmtimeCommand(g).env === undefined ? [] : Object.entries(wasmtimeCommand(g).env), expected);
  t.deepEqual(Object.entries(envDocker(g).env ?? {}), expected);
  t.deepEqual(
    Object.entries(dockerRunSpec(g).env).filter(([k]) => !k.startsWith('AIRLOCK_')),
    expected,
  );
});

test('env names toString and __proto__ reach a plugin on the worker engine', async (t) => {
  // env-dump's source in a folder whose manifest asks for the four names (the build is cached by content).
  const source = readFileSync(new URL('../../fixtures/plugins/env-dump/env.c', import.meta.url), 'utf8');
  const dump = writePlugin(
    manifestObject({
      name: 'env-names',
      runtime: 'wasm',
      entry: 'env.c',
      tools: [{ name: 'dump', description: 'Every variable it sees.', input: { type: 'object' } }],
      permissions: { env: NAMES },
    }),
    { 'env.c': source },
  );
  const host = new PluginHost({
    policy: { env: NAMES },
    env: hostEnv([
      ['toString', 't-value'],
      ['__proto__', 'p-value'],
    ]),
    engine: 'wasm',
  });
  try {
    await host.load(dump.dir);
    const result = await host.call('env-names_dump', {});
    t.deepEqual(result.value, ['toString=t-value', '__proto__=p-value']);
  } finally {
    await host.close();
  }
});

test('inspect of a plugin asking for env names toString and constructor exits 0, not 70', async (t) => {
  const dir = tempDir();
  const p = writePlugin(manifestObject({ permissions: { env: NAMES } }), { 'main.py': '' }, dir);
  writeFileSync(join(dir, 'policy.yaml'), `env: [${NAMES.join(', ')}]\n`);
  const run = await cli(['inspect', p.dir, '--policy', join(dir, 'policy.yaml')]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /env {9}toString \(not set\), constructor \(not set\), __proto__ \(not set\), hasOwnProperty \(not set\)/);
});
