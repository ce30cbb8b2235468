/**
 * Finding #1 through the real Docker engine. With per-call isolation every
 * call gets a fresh container, started ahead. A container started before the
 * swap has the granted folder itself mounted; the first one created after it
 * must not start (permission-denied), never bind the symlink's target.
 * Skips loudly without Docker; fails in CI (AIRLOCK_REQUIRE_DOCKER=1), like
 * the other Docker tests.
 */
import test from 'ava';
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { LABEL_PLUGIN } from '../../../src/engines/docker/container.ts';
import { isAirlockError } from '../../../src/errors.ts';
import { DOCKER, engine, grantsFor } from '../../engines/docker/helpers.ts';
import { swapScene } from './swap-scene.ts';

const t_ = DOCKER ? test : test.skip;
const docker = engine();
test.after.always(() => docker.close());

/** Resolves once `n` containers of plugin `name` have started (Docker's event stream, no polling). */
async function starts(name: string, n: number): Promise<{ done: Promise<void>; stop(): void }> {
  const stream = (await new Docker().getEvents({ filters: { type: ['container'], event: ['start'], label: [`${LABEL_PLUGIN}=${name}`] } })) as Readable;
  let seen = 0;
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      seen += chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '').length;
      if (seen >= n) resolve();
    });
    stream.on('error', reject);
  });
  return { done, stop: () => stream.destroy() };
}

t_('a grant swapped for a symlink between per-call containers: the next container created fails with permission-denied', async (t) => {
  const s = swapScene();
  const base = grantsFor('python-fs', { filesystem: [{ path: '.', access: 'read' }] });
  const name = `fs-swap-${randomBytes(3).toString('hex')}`;
  const grants = {
    ...base,
    plugin: { ...base.plugin, name },
    filesystem: [{ ...s.grant, access: 'read' as const }],
    isolation: 'per-call' as const,
    resources: { ...base.resources, concurrency: 1 },
  };
  // The first container (load) and the one started ahead for the second call.
  const twoStarted = await starts(name, 2);
  t.teardown(twoStarted.stop);
  const plugin = await docker.load(grants);
  t.teardown(() => plugin.close());
  const read = () =>
    plugin.call('read', JSON.stringify({ path: '/data/f' })).then(
      (r) => r.output,
      (e: unknown) => e,
    );
  t.is(await read(), JSON.stringify({ text: 'granted' }));
  await twoStarted.done;
  s.swap();
  // Started before the swap: it holds the granted folder itself (now at w/away).
  t.is(await read(), JSON.stringify({ text: 'granted' }));
  // Created after the swap: refused before the daemon sees the bind.
  const err = await read();
  t.true(isAirlockError(err), String(err));
  if (isAirlockError(err)) {
    t.is(err.code, 'permission-denied', err.message);
    t.true(err.message.includes(s.secret), err.message);
  }
});
