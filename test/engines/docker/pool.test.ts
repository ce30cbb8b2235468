/**
 * The container pool against a daemon that fails on request: a slot whose
 * replacement cannot start is retried with backoff, and calls made while no
 * container runs respect the queue limit.
 */
import test from 'ava';
import type Docker from 'dockerode';
import { isAirlockError } from '../../../src/errors.ts';
import { CONTAINER_USER, dockerRunSpec } from '../../../src/engines/docker/options.ts';
import { ContainerPool } from '../../../src/engines/docker/pool.ts';
import type { Grants } from '../../../src/grants/types.ts';
import { DOCKER, engine, grantsFor } from './helpers.ts';

const t = DOCKER ? test : test.skip;
const docker = engine();
test.after.always(() => docker.close());

/** The engine's client, except that createContainer fails while `failing.on`; nextCreated/nextFailed resolve at the next success/failure. */
function flakyDocker(real: Docker): { client: Docker; failing: { on: boolean }; nextCreated(): Promise<void>; nextFailed(): Promise<void> } {
  const failing = { on: false };
  const waiters: (() => void)[] = [];
  const failWaiters: (() => void)[] = [];
  const client = new Proxy(real, {
    get(target, prop) {
      if (prop === 'createContainer') {
        return async (options: Docker.ContainerCreateOptions) => {
          if (failing.on) {
            for (const w of failWaiters.splice(0)) w();
            throw new Error('transient daemon error (test)');
          }
          const c = await target.createContainer(options);
          for (const w of waiters.splice(0)) w();
          return c;
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { client, failing, nextCreated: () => new Promise<void>((r) => waiters.push(r)), nextFailed: () => new Promise<void>((r) => failWaiters.push(r)) };
}

async function pool(grants: Grants, client: Docker): Promise<ContainerPool> {
  const { tag } = await docker.build(grants);
  const spec = dockerRunSpec(grants);
  const p = new ContainerPool(client, grants, {
    image: tag,
    plugin: grants.plugin.name,
    hostConfig: spec.hostConfig,
    env: spec.env,
    user: CONTAINER_USER,
    maxLineBytes: 1 << 20,
  });
  await p.start();
  return p;
}

t('a slot whose replacement fails to start is started again later, while another slot works', async (t) => {
  // A bound on a hang, not a time window: this test once never finished in two full CI runs (every step waits
  // for an event, none for a time), and its log names the last step it reached.
  t.timeout(180_000, 'a step never finished: the log names the last one reached');
  const base = grantsFor('python-exit');
  const grants = { ...base, resources: { ...base.resources, concurrency: 2 } };
  const flaky = flakyDocker(docker.docker);
  t.log('building and starting the pool');
  const p = await pool(grants, flaky.client);
  t.teardown(() => p.close());
  flaky.failing.on = true;
  // The crash replaces that container; creating the replacement fails.
  t.log('calling hard_exit');
  t.true(isAirlockError(await t.throwsAsync(p.call('hard_exit', '{}')), 'crash'));
  const created = flaky.nextCreated();
  flaky.failing.on = false;
  // The other slot still serves meanwhile; the failed one is retried by itself (before the fix it never was).
  t.log('calling ping on the other slot');
  t.is((await p.call('ping', '{}')).output, '"pong"');
  t.log('waiting for the failed slot to be started again');
  await created;
  t.log('calling ping again');
  t.is((await p.call('ping', '{}')).output, '"pong"');
});

t('with every container down and the queue full, a call is overloaded at once (not queued)', async (t) => {
  const base = grantsFor('python-exit');
  const grants = { ...base, resources: { ...base.resources, concurrency: 1, queue: 0 } };
  const flaky = flakyDocker(docker.docker);
  const p = await pool(grants, flaky.client);
  t.teardown(() => p.close());
  flaky.failing.on = true;
  const failed = flaky.nextFailed();
  t.true(isAirlockError(await t.throwsAsync(p.call('hard_exit', '{}')), 'crash'));
  await failed;
  // The failure reaches the slot a few promise reactions after createContainer rejects; one turn of the
  // event loop runs them all.
  await new Promise((r) => setImmediate(r));
  // Before the fix the call was queued and a start tried for it, so it failed later with that start's crash.
  const err = await t.throwsAsync(p.call('ping', '{}'));
  t.true(isAirlockError(err, 'overloaded'), String(err));
  t.regex(err!.message, /no container is running \(the last start failed: .*transient daemon error/);
});
