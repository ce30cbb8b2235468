/** The warm-pool registry agents share (src/host/pools.ts), on a fake provider: no engine runs. */
import test from 'ava';
import type { EnginePlugin } from '../../src/engines/types.ts';
import type { EngineProvider, OpenedPlugin } from '../../src/provider/index.ts';
import { Pools } from '../../src/host/pools.ts';
import type { LoadedManifest } from '../../src/manifest/index.ts';
import { makeGrants } from '../helpers/grants.ts';

const plugin = { manifest: { name: 'p' } } as LoadedManifest;

class FakeProvider implements EngineProvider {
  opens = 0;
  instancesClosed = 0;
  closed = false;
  #gate: Promise<void> = Promise.resolve();

  hold(): () => void {
    let release = (): void => {};
    this.#gate = new Promise((resolve) => (release = resolve));
    return release;
  }

  async open(): Promise<OpenedPlugin> {
    this.opens++;
    await this.#gate;
    const instance: EnginePlugin = {
      call: () => Promise.reject(new Error('not called here')),
      close: async () => {
        this.instancesClosed++;
      },
    } as unknown as EnginePlugin;
    return { engine: 'wasm', reason: 'fake', instance };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

test('holds of the same grants and content share one open pool; the last release closes it', async (t) => {
  const provider = new FakeProvider();
  const pools = new Pools(provider);
  const grants = makeGrants();
  const [a, b] = await Promise.all([pools.acquire(plugin, grants, 'auto', 'h1'), pools.acquire(plugin, grants, 'auto', 'h1')]);
  t.is(provider.opens, 1);
  t.is(a.key, b.key);
  t.is(a.opened, b.opened);
  const other = await pools.acquire(plugin, grants, 'auto', 'h2');
  t.not(other.key, a.key, 'changed content is a pool of its own');
  await pools.release(a.key);
  t.is(provider.instancesClosed, 0, 'one hold remains');
  await pools.release(b.key);
  t.is(provider.instancesClosed, 1);
});

test("an agent's share is the pool's instances over its holders, at least one", async (t) => {
  const pools = new Pools(new FakeProvider());
  const grants = makeGrants({ resources: { concurrency: 4 } });
  const holds = [];
  for (let i = 0; i < 3; i++) holds.push(await pools.acquire(plugin, grants, 'auto', 'h'));
  const key = holds[0]!.key;
  t.is(pools.share(key), 1, 'floor(4 / 3)');
  await pools.release(key);
  t.is(pools.share(key), 2);
  await pools.release(key);
  t.is(pools.share(key), 4, 'alone, an agent gets every instance');
  for (let i = 0; i < 5; i++) await pools.acquire(plugin, grants, 'auto', 'h');
  t.is(pools.share(key), 1, 'never less than one');
});

test('close() refuses new holds at once, lets the agents drain, then stops pools still open or opening and the provider', async (t) => {
  const provider = new FakeProvider();
  const pools = new Pools(provider);
  const kept = await pools.acquire(plugin, makeGrants(), 'auto', 'kept');
  const release = provider.hold();
  const opening = pools.acquire(plugin, makeGrants(), 'auto', 'opening');
  let drained = false;
  const closing = pools.close(async () => {
    await t.throwsAsync(pools.acquire(plugin, makeGrants(), 'auto', 'late'), { code: 'aborted', message: 'the plugin host is closed' });
    drained = true;
  });
  release();
  await t.throwsAsync(opening, { message: /the plugin host closed while p was loading/ });
  await closing;
  t.true(drained);
  t.is(provider.instancesClosed, 2, 'the held pool and the one that finished opening');
  t.true(provider.closed);
  await pools.release(kept.key);
  t.is(provider.instancesClosed, 2, 'a release after close finds nothing to close twice');
});
