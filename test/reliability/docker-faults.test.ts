/**
 * Fault injection on the Docker engine: a container killed mid-call (`docker
 * kill` through the daemon, as an operator or the OOM killer would), and a
 * daemon outage during a run. The outage here is simulated with a socket
 * proxy the engine talks through (see docker-proxy.ts), because stopping the
 * real daemon would break every other Docker test running beside this file;
 * the real stop and restart runs serially after ava (dockerd-restart.ts).
 *
 * The plugin is conformance-node under its own name, so the containers this
 * file kills are found by their label and are never another test's.
 */
import test from 'ava';
import Docker from 'dockerode';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerEngine } from '../../src/engines/docker/index.ts';
import { LABEL_OWNER, LABEL_PLUGIN, OWNER } from '../../src/engines/docker/container.ts';
import { isAirlockError } from '../../src/errors.ts';
import type { Grants } from '../../src/grants/types.ts';
import { DOCKER, grantsFor } from '../engines/docker/helpers.ts';
import { DockerSocketProxy } from './docker-proxy.ts';
import { settled, within } from './helpers.ts';

const t_ = DOCKER ? test.serial : test.serial.skip;
const BOUND_MS = 90_000;
const docker = new Docker();

function grants(name: string): Grants {
  const g = grantsFor('conformance-node', undefined);
  return { ...g, plugin: { ...g.plugin, name }, resources: { ...g.resources, concurrency: 1, timeoutMs: 60_000 } };
}

async function containersOf(name: string, all = false): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all, filters: JSON.stringify({ label: [`${LABEL_PLUGIN}=${name}`, `${LABEL_OWNER}=${OWNER}`] }) });
}

const settle = (p: Promise<unknown>, what: string): Promise<unknown> => settled(p, BOUND_MS, what);

t_('a container killed mid-call gives its caller crash, the next call runs in a fresh container, and none is left behind', async (t) => {
  const engine = new DockerEngine();
  const name = 'faults-kill';
  const plugin = await engine.load(grants(name));
  t.teardown(() => plugin.close());
  t.is((await plugin.call('count', '{}')).output, '1');
  const [victim] = await containersOf(name);
  t.truthy(victim);
  const spinning = settle(plugin.call('spin', '{}'), 'the call whose container was killed');
  await docker.getContainer(victim!.Id).kill({ signal: 'SIGKILL' });
  const e = await spinning;
  t.true(isAirlockError(e, 'crash'), String(e));
  t.is((await within(plugin.call('count', '{}'), BOUND_MS, 'the call after the kill')).output, '1');
  await plugin.close();
  t.deepEqual(await containersOf(name, true), [], 'containers left after close');
});

t_(
  'a daemon outage mid-call: the caller gets a typed error, calls during the outage fail typed and at once, and calls succeed once the daemon is back',
  async (t) => {
    const proxy = new DockerSocketProxy(mkdtempSync(join(tmpdir(), 'airlock-dockerd-')));
    await proxy.restore();
    t.teardown(() => proxy.cut());
    const engine = new DockerEngine({ docker: new Docker({ socketPath: proxy.path }) });
    const name = 'faults-outage';
    const plugin = await engine.load(grants(name));
    t.teardown(() => plugin.close());
    t.is((await plugin.call('echo', '{"n":1}')).output, '{"n":1}');

    const spinning = settle(plugin.call('spin', '{}'), 'the call in flight when the daemon went away');
    await proxy.cut();
    const e = await spinning;
    t.true(isAirlockError(e, 'engine-unavailable'), String(e));
    const during = await settle(plugin.call('echo', '{"n":2}'), 'a call during the outage');
    t.true(isAirlockError(during, 'engine-unavailable'), String(during));

    await proxy.restore();
    t.is((await within(plugin.call('echo', '{"n":3}'), BOUND_MS, 'the call after the daemon came back')).output, '{"n":3}');
    await plugin.close();
    t.deepEqual(await containersOf(name, true), [], 'containers left after close (the ones the outage ended included)');
  },
);

t_(
  'a daemon that goes away while a container starts: the load fails engine-unavailable (the process survives), and once it is back a load works and nothing is left',
  async (t) => {
    const proxy = new DockerSocketProxy(mkdtempSync(join(tmpdir(), 'airlock-dockerd-')));
    await proxy.restore();
    t.teardown(() => proxy.cut());
    const engine = new DockerEngine({ docker: new Docker({ socketPath: proxy.path }) });
    const name = 'faults-start';
    const g = grants(name);
    // Build the image first, so the cut lands on the container start itself.
    await engine.build(g);
    // Created and attached, then the daemon is gone when `start` is sent: the container's end can reach
    // the start-up code before anything awaits it (this used to be an unhandled rejection, ending the process).
    proxy.cutOn((request) => /^POST \/[^ ]*containers\/[^/ ]+\/start/.test(request));
    const e = await settle(engine.load(g), 'the load during the outage');
    t.true(isAirlockError(e, 'engine-unavailable'), String(e));
    await proxy.restore();
    const plugin = await within(engine.load(g), BOUND_MS, 'the load after the daemon came back');
    t.is((await plugin.call('echo', '{"n":1}')).output, '{"n":1}');
    await plugin.close();
    t.deepEqual(await containersOf(name, true), [], 'containers left (the one created before the outage included)');
  },
);
