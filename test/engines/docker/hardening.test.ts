/**
 * `docker inspect` of a running plugin container shows every hardening flag
 * (OWASP Docker cheat sheet, CIS Docker Benchmark section 5), derived from
 * the grants: network none, memory = memory+swap, CPU, pids, ulimits, init,
 * read-only root with a noexec size-limited /tmp, all capabilities dropped,
 * no-new-privileges, default seccomp, non-root user, only granted env and
 * mounts, no Docker socket, Airlock's labels.
 */
import test from 'ava';
import { chmodSync } from 'node:fs';
import Docker from 'dockerode';
import { OWNER } from '../../../src/engines/docker/container.ts';
import { manifestObject, tempDir, writePlugin } from '../../helpers/plugin.ts';
import { DOCKER, engine, grantsFor } from './helpers.ts';

const t = DOCKER ? test : test.skip;
const docker = engine();
test.after.always(() => docker.close());

t('a running plugin container carries every hardening flag, from the grants', async (t) => {
  const ro = tempDir();
  const rw = tempDir();
  chmodSync(rw, 0o777);
  const plugin = writePlugin(
    manifestObject({
      name: 'python-inspect',
      resources: { memory: '96Mi', cpu: 0.5, concurrency: 2 },
      permissions: {
        filesystem: [
          { path: ro, mount: '/in', access: 'read' },
          { path: rw, mount: '/out', access: 'read-write' },
        ],
        env: ['INSPECT_GRANTED'],
      },
    }),
    { 'main.py': 'def echo(input):\n    return input\n' },
  );
  process.env.INSPECT_GRANTED = 'granted-value';
  process.env.INSPECT_NOT_GRANTED = 'secret';
  const grants = grantsFor(plugin.dir, {
    filesystem: [
      { path: ro, access: 'read' },
      { path: rw, access: 'read-write' },
    ],
    env: ['INSPECT_GRANTED'],
    unboundedWrites: ['docker'],
  });
  const p = await docker.load(grants);
  const client = new Docker();
  const listed = await client.listContainers({ filters: JSON.stringify({ label: ['airlock.plugin=python-inspect', `airlock.owner=${OWNER}`] }) });
  t.is(listed.length, 2, 'one warm container per concurrency slot');
  for (const c of listed) {
    const info = await client.getContainer(c.Id).inspect();
    const h = info.HostConfig;
    t.true(info.State.Running);
    t.is(h.NetworkMode, 'none');
    t.is(h.Memory, 96 * 1024 * 1024);
    t.is(h.MemorySwap, h.Memory);
    t.is(h.NanoCpus, 0.5e9);
    t.is(h.PidsLimit, 128);
    const ulimits = Object.fromEntries((h.Ulimits ?? []).map((u) => [u.Name, [u.Soft, u.Hard]]));
    t.deepEqual(ulimits.nofile, [1024, 1024]);
    t.deepEqual(ulimits.nproc, [4096, 4096]);
    t.true(h.Init);
    t.true(h.ReadonlyRootfs);
    const tmp = h.Tmpfs?.['/tmp'] ?? '';
    for (const opt of ['noexec', 'nosuid', 'nodev']) t.true(tmp.split(',').includes(opt), `/tmp ${opt}: ${tmp}`);
    t.regex(tmp, /(^|,)size=\d+/);
    t.deepEqual(h.CapDrop, ['ALL']);
    t.deepEqual(h.CapAdd ?? [], []);
    t.deepEqual(h.SecurityOpt, ['no-new-privileges:true'], 'no-new-privileges, and no seccomp/apparmor override');
    t.false(h.Privileged);
    t.is(h.IpcMode, 'private');
    t.not(h.PidMode, 'host');
    t.deepEqual(h.Devices ?? [], []);
    t.is(h.LogConfig?.Type, 'none');
    t.is(info.Config.User, '10001:10001');
    // Only granted env (plus Airlock's own limits, which the in-container host removes before the plugin loads).
    const env = Object.fromEntries(info.Config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    t.is(env.INSPECT_GRANTED, 'granted-value');
    t.false('INSPECT_NOT_GRANTED' in env);
    const imageEnv = new Set((await client.getImage(info.Image).inspect()).Config.Env ?? []);
    const extra = info.Config.Env.filter((e) => !imageEnv.has(e))
      .map((e) => e.slice(0, e.indexOf('=')))
      .sort();
    t.deepEqual(extra, ['AIRLOCK_LOG_BYTES', 'AIRLOCK_OUTPUT_BYTES', 'INSPECT_GRANTED']);
    // Only the granted mounts, as granted; never the Docker socket.
    const mounts = info.Mounts.map((m) => ({ source: m.Source, destination: m.Destination, rw: m.RW, type: m.Type }))
      .filter((m) => m.type === 'bind')
      .sort((a, b) => a.destination.localeCompare(b.destination));
    t.deepEqual(mounts, [
      { source: ro, destination: '/in', rw: false, type: 'bind' },
      { source: rw, destination: '/out', rw: true, type: 'bind' },
    ]);
    t.false(JSON.stringify(info.Mounts).includes('docker.sock'));
    t.deepEqual(h.Binds ?? [], []);
    t.is(info.Config.Labels['airlock.managed'], 'true');
    t.is(info.Config.Labels['airlock.plugin'], 'python-inspect');
    t.deepEqual(info.Config.ExposedPorts ?? {}, {});
  }
  await p.close();
  const after = await client.listContainers({ all: true, filters: JSON.stringify({ label: ['airlock.plugin=python-inspect', `airlock.owner=${OWNER}`] }) });
  t.is(after.length, 0, 'close() removes the containers');
});

t(
  'orphans of a dead Airlock process are removed at engine start; live owners and owner-less containers (run by hand from a plugin image) are left alone',
  async (t) => {
    const client = new Docker();
    const image = process.env.AIRLOCK_PYTHON_IMAGE ?? 'python:3.11-slim-bookworm';
    // A pid that cannot be alive: beyond the kernel's pid_max.
    const dead = await client.createContainer({
      Image: image,
      Cmd: ['true'],
      Labels: { 'airlock.managed': 'true', 'airlock.owner': `${(await import('node:os')).hostname()}/99999999`, 'airlock.plugin': 'orphan' },
    });
    const alive = await client.createContainer({
      Image: image,
      Cmd: ['true'],
      Labels: { 'airlock.managed': 'true', 'airlock.owner': OWNER, 'airlock.plugin': 'not-orphan' },
    });
    const byHand = await client.createContainer({ Image: image, Cmd: ['true'], Labels: { 'airlock.managed': 'true', 'airlock.plugin': 'run-by-hand' } });
    const { removeOrphans } = await import('../../../src/engines/docker/index.ts');
    await removeOrphans(client);
    await t.throwsAsync(client.getContainer(dead.id).inspect());
    t.truthy(await client.getContainer(alive.id).inspect());
    t.truthy(await client.getContainer(byHand.id).inspect());
    await alive.remove({ force: true });
    await byHand.remove({ force: true });
  },
);
