/**
 * The worker engine's warm (src/provider warm → src/engines/wasm/definition.ts
 * → standby prestart): with no standby configured (as `airlock call` runs),
 * a plugin about to be opened gets one blank worker thread started ahead,
 * and its load adopts that thread rather than starting another. A host made
 * for the default engines starts that thread in its constructor (prepare).
 */
import test from 'ava';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Worker } from 'node:worker_threads';
import { computeGrants, defaultPolicy } from '../../src/grants/index.ts';
import { PluginHost } from '../../src/host/index.ts';
import { loadPlugin } from '../../src/manifest/index.ts';
import { defaultEngineProvider } from '../../src/provider/index.ts';
import { standby } from '../../src/engines/wasm/standby.ts';
import { fixtureComponent } from '../engines/wasm/helpers.ts';
import { fixture } from '../host/helpers.ts';

// No standby of the process's own: every wasm worker this file sees is one a warm or a load started.
process.env.AIRLOCK_WASM_STANDBY = '0';

/** Generous: a busy machine may take seconds to start a thread; nothing waits this long unless something is wrong. */
const BOUND_MS = 60_000;

test.serial('warm() starts one blank wasm worker for a wasm plugin, and the load and call that follow start no other', async (t) => {
  await fixtureComponent('echo-c');
  const started: string[] = [];
  let first!: () => void;
  const one = new Promise<void>((resolve) => (first = resolve));
  const onWorker = (m: unknown): void => {
    started.push((m as { worker: Worker }).worker.threadName ?? '');
    first();
  };
  subscribe('worker_threads', onWorker);
  t.teardown(() => unsubscribe('worker_threads', onWorker));
  const provider = defaultEngineProvider();
  const grants = computeGrants(loadPlugin(fixture('echo-c')), defaultPolicy());
  provider.warm(grants, 'auto');
  provider.warm(grants, 'auto');
  const bound = setTimeout(() => first(), BOUND_MS);
  await one;
  clearTimeout(bound);
  t.deepEqual(started, ['airlock:wasm'], 'one blank worker, however often warmed');
  const host = new PluginHost({ provider });
  t.teardown(() => host.close());
  await host.load(fixture('echo-c'));
  t.deepEqual((await host.call('echo-c_echo', { message: 'hi' })).value, { message: 'hi' });
  t.deepEqual(
    started.filter((n) => n === 'airlock:wasm'),
    ['airlock:wasm'],
    'the load adopted the warmed worker',
  );
});

test.serial('warm() starts nothing for a plugin no component engine runs', async (t) => {
  const started: string[] = [];
  const onWorker = (m: unknown): void => void started.push((m as { worker: Worker }).worker.threadName ?? '');
  subscribe('worker_threads', onWorker);
  t.teardown(() => unsubscribe('worker_threads', onWorker));
  const grants = computeGrants(loadPlugin(fixture('attack-python')), defaultPolicy());
  defaultEngineProvider().warm(grants, 'auto');
  // The warm's module import settles within a few turns of the event loop; a start would be seen by then.
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  t.deepEqual(started, []);
});

test.serial('the worker engine says once when it starts the plugin off the thread (onStarting), before the open resolves', async (t) => {
  await fixtureComponent('echo-c');
  const provider = defaultEngineProvider();
  t.teardown(() => provider.close());
  const plugin = loadPlugin(fixture('echo-c'));
  let starting = 0;
  const opened = await provider.open(plugin, computeGrants(plugin, defaultPolicy()), 'auto', { onStarting: () => starting++ });
  t.is(starting, 1);
  t.is(opened.engine, 'wasm');
  await opened.instance.close();
});

test.serial('a host made for the default engines starts one blank wasm worker in its constructor, and its first load adopts that one', async (t) => {
  await fixtureComponent('echo-c');
  standby.resize(0); // none left waiting by an earlier test: this host's must be its own
  const started: string[] = [];
  const onWorker = (m: unknown): void => void started.push((m as { worker: Worker }).worker.threadName ?? '');
  subscribe('worker_threads', onWorker);
  t.teardown(() => unsubscribe('worker_threads', onWorker));
  const host = new PluginHost({});
  t.teardown(() => host.close());
  t.deepEqual(started, ['airlock:wasm'], 'started before the constructor returned');
  await host.load(fixture('echo-c'));
  t.deepEqual((await host.call('echo-c_echo', { message: 'hi' })).value, { message: 'hi' });
  t.deepEqual(started, ['airlock:wasm'], 'the load adopted it');
});

test.serial('a host made for Docker only starts no wasm worker when made', async (t) => {
  standby.resize(0);
  const started: string[] = [];
  const onWorker = (m: unknown): void => void started.push((m as { worker: Worker }).worker.threadName ?? '');
  subscribe('worker_threads', onWorker);
  t.teardown(() => unsubscribe('worker_threads', onWorker));
  const host = new PluginHost({ engine: 'docker' });
  t.teardown(() => host.close());
  t.deepEqual(started, []);
});
