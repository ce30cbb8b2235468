/**
 * Fault injection on the wasm engines: a worker thread killed mid-call, and
 * the disk cache (built component, transpiled glue and core modules, wasmtime
 * .cwasm) damaged or deleted, before a load and while a plugin runs. Each
 * caller gets a typed AirlockError or its result, no call hangs (every wait
 * is bounded and fails the test), and the next call succeeds.
 *
 * "Killed" for a thread: a thread has no pid to signal; what ends one from
 * outside is its isolate being terminated at an arbitrary point (in wasm or
 * in JS), with no code of its own running afterwards: Worker.terminate()
 * called by someone other than the pool (see trackWorkers), which the pool
 * sees as an unexpected exit, exactly like a fatal error in the thread.
 *
 * The whole file runs on a private cache folder (AIRLOCK_CACHE_DIR), so the
 * damage never reaches the cache other test files share.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugin } from '../../src/build/wasm.ts';
import { WasmEngine } from '../../src/engines/wasm/index.ts';
import { transpileComponent } from '../../src/engines/wasm/transpile.ts';
import { probeWasmtime, WasmtimeEngine } from '../../src/engines/wasmtime/index.ts';
import { isAirlockError } from '../../src/errors.ts';
import { PluginHost } from '../../src/host/index.ts';
import { cacheDir } from '../../src/paths.ts';
import { requireExternal } from '../helpers/require.ts';
import { fixtureComponent, fixtureGrants } from '../engines/wasm/helpers.ts';
import { fixture } from '../host/helpers.ts';
import { Ledger, settled, trackWorkers, within, workersOf } from './helpers.ts';

const privateCache = mkdtempSync(join(tmpdir(), 'airlock-faults-cache-'));
process.env.AIRLOCK_CACHE_DIR = privateCache;
trackWorkers();

/** Generous: a call here takes microseconds to a few hundred ms; only a hang reaches it. */
const BOUND_MS = 60_000;

const probe = await probeWasmtime();
const wasmtime = requireExternal('wasmtime', probe.available, probe.reason ?? 'not found');
const withWasmtime = wasmtime ? test.serial : test.serial.skip;
// (Declared after the await above: ava takes no declarations once a tick has passed after the first.)
test.after.always(() => rm(privateCache, { recursive: true, force: true }));

const outcome = (p: Promise<unknown>, what: string): Promise<unknown> => settled(p, BOUND_MS, what);

test.serial('a worker thread terminated from outside mid-call gives its caller crash, and the next call runs on a fresh instance', async (t) => {
  const engine = new WasmEngine();
  t.teardown(() => engine.close());
  const plugin = await engine.load(fixtureGrants('state', { resources: { concurrency: 1 } }), { kind: 'component', path: await fixtureComponent('state') });
  t.is((await plugin.call('count', '{}')).output, '1');
  t.is((await plugin.call('count', '{}')).output, '2');
  const [victim] = workersOf('state');
  t.truthy(victim, 'the engine started a worker for the plugin');
  // spin never returns: the call is in flight until its worker dies.
  const spinning = outcome(plugin.call('spin', '{}'), 'the call whose worker was killed');
  await victim!.terminate();
  const e = await spinning;
  t.true(isAirlockError(e, 'crash'), String(e));
  // A fresh worker (and so a fresh instance: the count starts again) serves the next call.
  t.is((await within(plugin.call('count', '{}'), BOUND_MS, 'the call after the kill')).output, '1');
  t.false(workersOf('state').includes(victim!));
});

test.serial(
  'killing every worker of a plugin under load: each of 2,000 calls settles once, with its own result or crash, and later calls succeed',
  async (t) => {
    const engine = new WasmEngine();
    t.teardown(() => engine.close());
    const concurrency = 2;
    const plugin = await engine.load(fixtureGrants('echo-c', { resources: { concurrency, queue: 4000 } }), {
      kind: 'component',
      path: await fixtureComponent('echo-c'),
    });
    const ledger = new Ledger();
    const n = 2000;
    const all: Promise<void>[] = [];
    for (let id = 0; id < n; id++)
      all.push(ledger.track(id, async () => JSON.parse((await plugin.call('echo', JSON.stringify({ id }))).output) as { id: number }));
    await within(ledger.when(200), BOUND_MS, 'the first 200 calls');
    const victims = workersOf('echo-c');
    t.is(victims.length, concurrency);
    await Promise.all(victims.map((w) => w.terminate()));
    await within(Promise.all(all), BOUND_MS, 'the 2,000 calls');
    t.deepEqual(ledger.missing(), []);
    t.deepEqual(ledger.duplicates(), []);
    const tally = ledger.tally();
    const crashed = tally.crash ?? 0;
    // Only the calls running on the killed workers fail (one per worker at most); queued ones run on the replacements.
    t.true(crashed >= 1 && crashed <= concurrency, JSON.stringify(tally));
    t.is(tally.ok, n - crashed, JSON.stringify(tally));
    for (const [id, o] of ledger.outcomes()) if (o.ok) t.is((o.value as { id: number }).id, id, `call ${id} got another call's result`);
    const after = JSON.parse((await within(plugin.call('echo', '{"id":"after"}'), BOUND_MS, 'the call after recovery')).output) as { id: string };
    t.is(after.id, 'after');
  },
);

/** The ways a cache file goes bad. */
const damages: Record<string, (file: string) => Promise<void>> = {
  truncated: async (f) => truncate(f, Math.floor((await readFile(f)).length / 2)),
  garbled: async (f) => {
    const b = await readFile(f);
    for (let i = Math.floor(b.length / 3); i < b.length; i += 97) b[i] = (b[i]! ^ 0x5a) & 0xff;
    await writeFile(f, b);
  },
  deleted: (f) => rm(f, { force: true }),
};

async function transpiledDir(component: string): Promise<string> {
  return cacheDir('transpiled', (await transpileComponent(component)).hash);
}

for (const [file, kind] of [
  ['plugin.js', 'truncated'],
  ['plugin.js', 'garbled'],
  ['plugin.js', 'deleted'],
  ['plugin.core.wasm', 'truncated'],
  ['plugin.core.wasm', 'garbled'],
  ['seal.json', 'deleted'],
] as const) {
  test.serial(`a ${kind} ${file} in the transpile cache is detected at load and transpiled again, and calls succeed`, async (t) => {
    const component = await fixtureComponent('echo-c');
    const dir = await transpiledDir(component);
    const good = await readFile(join(dir, file));
    await damages[kind]!(join(dir, file));
    const engine = new WasmEngine();
    t.teardown(() => engine.close());
    const plugin = await within(engine.load(fixtureGrants('echo-c'), { kind: 'component', path: component }), BOUND_MS, 'the load');
    t.is((await plugin.call('echo', '{"x":1}')).output, '{"x":1}');
    t.deepEqual(await readFile(join(dir, file)), good, 'the entry was rebuilt as it was');
  });
}

test.serial('deleting the transpile cache while a plugin runs does not stop its worker from being replaced after a timeout', async (t) => {
  const component = await fixtureComponent('state');
  const engine = new WasmEngine();
  t.teardown(() => engine.close());
  // Only the spin gets a short limit: the call after it, on a fresh worker, must not race one on a busy machine.
  const plugin = await engine.load(fixtureGrants('state', { resources: { concurrency: 1, timeoutMs: 60_000 } }), { kind: 'component', path: component });
  await rm(await transpiledDir(component), { recursive: true, force: true });
  await rm(cacheDir('transpiled'), { recursive: true, force: true });
  const e = await outcome(plugin.call('spin', '{}', { timeoutMs: 500 }), 'the call that times out');
  t.true(isAirlockError(e, 'timeout'), String(e));
  t.is((await within(plugin.call('count', '{}'), BOUND_MS, 'the call after the timeout')).output, '1');
});

for (const kind of ['truncated', 'garbled', 'deleted'] as const) {
  test.serial(`a ${kind} component in the build cache is rebuilt, and a host loading the plugin afterwards calls it`, async (t) => {
    const first = await buildPlugin(fixture('echo-c'));
    await damages[kind]!(first.componentPath);
    const host = new PluginHost({ engine: 'wasm' });
    t.teardown(() => host.close());
    await within(host.load(fixture('echo-c')), BOUND_MS, 'the load');
    t.deepEqual((await host.call('echo-c_echo', { x: 2 })).value, { x: 2 });
    const again = await buildPlugin(fixture('echo-c'));
    t.is(again.componentPath, first.componentPath);
    t.true(again.cached, 'the rebuilt entry is a valid cache hit');
  });
}

function cwasmFiles(): string[] {
  const root = cacheDir('wasmtime', probe.version ?? 'none');
  return existsSync(root)
    ? readdirSync(root)
        .filter((f) => f.endsWith('.cwasm'))
        .map((f) => join(root, f))
    : [];
}

for (const kind of ['truncated', 'garbled', 'deleted'] as const) {
  withWasmtime(`a .cwasm ${kind} while a wasmtime plugin runs is compiled again before the next call, which succeeds`, async (t) => {
    const engine = new WasmtimeEngine({ probe });
    t.teardown(() => engine.close());
    const component = await fixtureComponent('echo-c');
    const plugin = await engine.load(fixtureGrants('echo-c'), { kind: 'component', path: component });
    t.is((await plugin.call('echo', '{"y":1}')).output, '{"y":1}');
    const cwasm = plugin.info.cwasm;
    const good = await readFile(cwasm);
    await damages[kind]!(cwasm);
    t.is((await within(plugin.call('echo', '{"y":2}'), BOUND_MS, 'the call after the damage')).output, '{"y":2}');
    t.deepEqual(await readFile(cwasm), good, 'the .cwasm was compiled again');
    // And a fresh load of a damaged entry compiles it again too.
    await damages[kind]!(cwasm);
    const fresh = await engine.load(fixtureGrants('echo-c'), { kind: 'component', path: component });
    t.is((await fresh.call('echo', '{"y":3}')).output, '{"y":3}');
    t.true(cwasmFiles().includes(cwasm));
  });
}

withWasmtime('a wasmtime plugin whose component was deleted with its .cwasm fails the next call with not-found, naming the file', async (t) => {
  const engine = new WasmtimeEngine({ probe });
  t.teardown(() => engine.close());
  const first = await buildPlugin(fixture('echo-c'));
  const plugin = await engine.load(fixtureGrants('echo-c'), { kind: 'component', path: first.componentPath });
  t.is((await plugin.call('echo', '{}')).output, '{}');
  await rm(plugin.info.cwasm);
  await rm(first.componentPath);
  const e = await outcome(plugin.call('echo', '{}'), 'the call without a component');
  t.true(isAirlockError(e, 'not-found'), String(e));
  t.regex((e as Error).message, /plugin\.wasm/);
  // Recovery: the component is built again, and the plugin compiles it again on its next call.
  await buildPlugin(fixture('echo-c'));
  t.is((await within(plugin.call('echo', '{"z":1}'), BOUND_MS, 'the call after the rebuild')).output, '{"z":1}');
});
