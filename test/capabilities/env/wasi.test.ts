import { LogCapture } from '../../../src/capabilities/index.ts';
import test from 'ava';
import { baselineWasi } from '../../../src/capabilities/index.ts';
import { envWasi, GuestExit } from '../../../src/capabilities/env/wasi.ts';
import { makeGrants } from '../../helpers/grants.ts';

/** The WASI baseline (every family), as a worker builds it. */
const BASE = await baselineWasi();

test('the guest environment is exactly the granted names; argv is the plugin name', (t) => {
  process.env.AIRLOCK_TEST_HOST_ONLY = 'x';
  const grants = makeGrants({ env: { A: '1', B: 'two' }, plugin: { name: 'weather' } });
  const env = envWasi(grants, { pluginName: 'weather', call: { logs: new LogCapture(0), randomBytesLeft: 0 }, base: BASE, shared: {} })[
    'wasi:cli/environment'
  ]!;
  t.deepEqual((env.getEnvironment as () => unknown)(), [
    ['A', '1'],
    ['B', 'two'],
  ]);
  t.deepEqual((env.getArguments as () => unknown)(), ['weather']);
  t.is((env.initialCwd as () => unknown)(), undefined);
});

test('nothing granted: an empty environment', (t) => {
  const env = envWasi(makeGrants(), { pluginName: 'p', call: { logs: new LogCapture(0), randomBytesLeft: 0 }, base: BASE, shared: {} })[
    'wasi:cli/environment'
  ]!;
  t.deepEqual((env.getEnvironment as () => unknown)(), []);
});

test('exit traps the instance instead of ending the worker thread', (t) => {
  const exit = envWasi(makeGrants(), { pluginName: 'p', call: { logs: new LogCapture(0), randomBytesLeft: 0 }, base: BASE, shared: {} })['wasi:cli/exit']!;
  t.throws(() => (exit.exit as (s: unknown) => never)({ tag: 'ok' }), { instanceOf: GuestExit });
  t.throws(() => (exit.exitWithCode as (c: number) => never)(3), { instanceOf: GuestExit, message: /code 3/ });
});
