/**
 * A granted folder swapped for a symlink after the grants were computed
 * (review finding #1): every engine's mapping, at the moment it uses the
 * path again, must refuse (permission-denied) or keep using the very folder
 * granted, never the link's target. Real temp folders; no Docker or wasmtime
 * needed (the Docker case goes through dockerode's request building, which
 * serialises the options before it connects).
 */
import test from 'ava';
import Docker from 'dockerode';
import { constants, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createFilesystem } from '../../../src/capabilities/filesystem/preopens.ts';
import { filesystemDocker } from '../../../src/capabilities/filesystem/docker.ts';
import { openGrantRoot, pinnedGrantPath, verifyGrantPath, verifyGrantPaths } from '../../../src/capabilities/filesystem/verify.ts';
import { filesystemWasmtime } from '../../../src/capabilities/filesystem/wasmtime.ts';
import { baselineWasi } from '../../../src/capabilities/index.ts';
import { dockerRunSpec } from '../../../src/engines/docker/options.ts';
import { AirlockError } from '../../../src/errors.ts';
import type { FilesystemGrant } from '../../../src/grants/types.ts';
import { makeGrants } from '../../helpers/grants.ts';
import { swapScene } from './swap-scene.ts';

/** The WASI baseline (every family), as a worker builds it. */
const BASE = await baselineWasi();

function denied(t: import('ava').ExecutionContext, fn: () => unknown, s: { granted: string; secret: string }, mount = '/data'): AirlockError {
  const err = t.throws(fn, { instanceOf: AirlockError });
  t.is(err.code, 'permission-denied');
  t.true(err.message.includes(mount), err.message);
  t.true(err.message.includes(s.granted), err.message);
  t.true(err.message.includes(s.secret), err.message);
  return err;
}

test('verifyGrantPath: passes for the granted folder, refuses it swapped (naming mount, grant and target) or missing', (t) => {
  const s = swapScene();
  t.notThrows(() => verifyGrantPath(s.grant));
  t.notThrows(() => verifyGrantPaths(makeGrants({ filesystem: [s.grant] })));
  s.swap();
  const err = denied(t, () => verifyGrantPath(s.grant), s);
  t.deepEqual(err.details, { mount: '/data', hostPath: s.granted, resolvesTo: s.secret });
  denied(t, () => verifyGrantPaths(makeGrants({ filesystem: [s.grant] })), s);
  rmSync(s.granted);
  const gone = t.throws(() => verifyGrantPath(s.grant), { instanceOf: AirlockError });
  t.is(gone.code, 'permission-denied');
  t.regex(gone.message, /no longer exists/);
});

test('openGrantRoot: a symlink on any component of the path is refused, not followed', (t) => {
  const a = swapScene();
  const fd = openGrantRoot(a.grant, 0);
  t.deepEqual(readdirSync(`/proc/self/fd/${fd}`), ['f']);
  a.swapParent();
  denied(t, () => openGrantRoot(a.grant, 0), a);
  const b = swapScene();
  b.swap();
  denied(t, () => openGrantRoot(b.grant, 0), b);
});

test('openGrantRoot: a path that is not swapped but does not open as asked still fails closed, saying why', (t) => {
  const s = swapScene();
  const file: FilesystemGrant = { hostPath: join(s.granted, 'f'), mount: '/m', access: 'read' };
  const err = t.throws(() => openGrantRoot(file, constants.O_RDONLY | constants.O_DIRECTORY), { instanceOf: AirlockError });
  t.is(err.code, 'permission-denied');
  t.regex(err.message, /\/m: cannot open the granted path .*\/f without following symlinks \(ENOTDIR\)/);
});

test('Docker: a bind source swapped after mapping makes the container create fail before it reaches the daemon', async (t) => {
  const s = swapScene();
  const spec = dockerRunSpec(makeGrants({ filesystem: [s.grant], unboundedWrites: ['docker'] }));
  t.deepEqual(spec.refusals, []);
  t.is(spec.hostConfig.Mounts?.[0]?.Source, s.granted);
  t.true(JSON.stringify(spec.hostConfig).includes(s.granted));
  // A daemon that is not there: unswapped, the request gets as far as connecting.
  const docker = new Docker({ socketPath: join(s.root, 'no-daemon.sock') });
  const create = () => docker.createContainer({ Image: 'x', HostConfig: { ...spec.hostConfig, NetworkMode: 'none' } });
  const before = await t.throwsAsync(create());
  t.false(before instanceof AirlockError, String(before));
  s.swap();
  const err = await t.throwsAsync(create(), { instanceOf: AirlockError });
  t.is(err.code, 'permission-denied');
  t.true(err.message.includes(s.secret));
  denied(t, () => JSON.stringify(filesystemDocker(makeGrants({ filesystem: [s.grant], unboundedWrites: ['docker'] })).mounts), s);
});

test('wasmtime: --dir names a pinned fd of the granted folder, so a later swap changes nothing, and a new mapping refuses', (t) => {
  const s = swapScene();
  const out = filesystemWasmtime(makeGrants({ filesystem: [s.grant], unboundedWrites: ['wasmtime'] }));
  t.deepEqual(out.refuse, []);
  const dir = out.args?.[1] ?? '';
  const m = /^(\/proc\/\d+\/fd\/\d+)::\/data$/.exec(dir);
  t.truthy(m, dir);
  const host = m?.[1] ?? '';
  t.is(readFileSync(join(host, 'f'), 'utf8'), 'granted');
  // The same folder mapped again reuses its fd (no fd per load).
  t.is(filesystemWasmtime(makeGrants({ filesystem: [s.grant], unboundedWrites: ['wasmtime'] })).args?.[1], dir);
  s.swap();
  // What each later wasmtime process opens: still the granted folder, now renamed away.
  t.is(readFileSync(join(host, 'f'), 'utf8'), 'granted');
  denied(t, () => filesystemWasmtime(makeGrants({ filesystem: [s.grant], unboundedWrites: ['wasmtime'] })), s);
  denied(t, () => pinnedGrantPath(s.grant), s);
});

test('worker engine: a new instance after the swap fails with permission-denied instead of opening the target', (t) => {
  const s = swapScene();
  const open = () => {
    const fs = createFilesystem([s.grant], BASE);
    return (fs['wasi:filesystem/preopens'] as { getDirectories(): [unknown, string][] }).getDirectories().length;
  };
  t.is(open(), 1);
  s.swap();
  denied(t, open, s);
  const p = swapScene();
  p.swapParent();
  denied(t, () => createFilesystem([p.grant], BASE), p);
});
