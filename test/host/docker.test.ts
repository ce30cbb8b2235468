/**
 * PluginHost over the Docker engine: the same typed results as for wasm,
 * and close() leaves no container behind. Needs Docker (skips loudly
 * without it; CI requires it).
 */
import Docker from 'dockerode';
import test from 'ava';
import { LABEL_OWNER, LABEL_PLUGIN, OWNER } from '../../src/engines/docker/container.ts';
import { isAirlockError, type ErrorCode } from '../../src/errors.ts';
import { PluginHost } from '../../src/host/index.ts';
import { DOCKER } from '../engines/docker/helpers.ts';
import { CountingProvider, fixture } from './helpers.ts';

async function rejectsWith(t: import('ava').ExecutionContext, promise: Promise<unknown>, code: ErrorCode): Promise<Error | undefined> {
  const error = await t.throwsAsync(promise);
  t.true(isAirlockError(error, code), `expected ${code}, got ${isAirlockError(error) ? `${error.code}: ${error.message}` : String(error)}`);
  return error;
}

/**
 * This test's containers: owned by this process and of the plugins it loads. Ava runs test files as
 * worker threads of one process, so other files' containers carry the same owner label.
 */
async function ourContainers(): Promise<string[]> {
  const list = await new Docker().listContainers({ all: true, filters: JSON.stringify({ label: [`${LABEL_OWNER}=${OWNER}`] }) });
  return list.filter((c) => ['node-deps', 'python-exit'].includes(c.Labels[LABEL_PLUGIN] ?? '')).map((c) => c.Names.join(','));
}

(DOCKER ? test : test.skip)('Docker plugins: results with logs, crash as a typed error, input checked first, nothing left after close()', async (t) => {
  const engines = new CountingProvider();
  const host = new PluginHost({ provider: engines });
  try {
    t.is((await host.load(fixture('node-deps'))).engine, 'docker');
    t.is((await host.load(fixture('python-exit'))).engine, 'docker');

    const duration = await host.call('node-deps_duration', { text: '2h' });
    t.deepEqual(duration.value, { ms: 7_200_000 });
    t.is(duration.logs.stdout, 'parsing 2h\n');
    t.is(duration.metrics.engine, 'docker');

    await rejectsWith(t, host.call('node-deps_duration', { text: 2 }), 'invalid-input');
    t.false(
      engines.calls.some((c) => c.input === '{"text":2}'),
      'the invalid call never reached the container',
    );

    const plugin = await rejectsWith(t, host.call('node-deps_fail', {}), 'plugin-error');
    t.like(isAirlockError(plugin) ? plugin.details : {}, { pluginCode: 'E_ATLANTIS' });

    await rejectsWith(t, host.call('python-exit_hard_exit', {}), 'crash');
    t.is((await host.call('python-exit_ping', {})).value, 'pong', 'a fresh container replaced the dead one');
    t.true((await ourContainers()).length > 0);
  } finally {
    await host.close();
  }
  t.deepEqual(await ourContainers(), [], 'close() stopped and removed every container');
});
