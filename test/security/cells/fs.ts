/**
 * Filesystem cells of the attack matrix. The fixtures are fs-escape (worker,
 * wasmtime) and the conformance fixtures (Docker), whose probes answer
 * "ok:<detail>" or "errno:<n>:<text>"; sandbox layout: test/conformance/cases.ts.
 */
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { CellEnv, CellFn } from '../engines.ts';
import type { CellImpls } from '../register.ts';
import { baseColumn } from '../matrix.ts';
import { answer, ERRNO } from './calls.ts';

const FS = { wasm: 'fs-escape' };
/** These cells are about leaving the grant, not filling it: unbounded writes are accepted on the engines that cannot bound them. */
const UNBOUNDED: ('docker' | 'wasmtime')[] = ['docker', 'wasmtime'];

/** Files outside the grants are as they were: nothing new next to ro/ and rw/, secret.txt unchanged and not linked. */
function hostUntouched(t: ExecutionContext, env: CellEnv): void {
  const { root, rw } = env.sandbox;
  t.deepEqual(readdirSync(root).sort(), ['ro', 'rw', 'secret.txt'], 'nothing planted beside the grants');
  t.is(readFileSync(join(root, 'secret.txt'), 'utf8'), 'secret');
  t.is(statSync(join(root, 'secret.txt')).nlink, 1, 'secret.txt gained no hard link');
  for (const f of ['hard', 'hard-esc']) {
    // lstat: a link to the planted symlink is that symlink (still pointing out), not the secret itself.
    const s = lstatSync(join(rw, f), { throwIfNoEntry: false });
    if (s !== undefined) t.not(s.ino, statSync(join(root, 'secret.txt')).ino, `rw/${f} is not secret.txt`);
  }
}

const hardlink: CellFn = async (t, env) => {
  const p = await env.load(FS, {
    resources: { timeoutMs: 5000 },
    filesystem: [{ hostPath: env.sandbox.rw, mount: '/rw', access: 'read-write' }],
    unboundedWrites: UNBOUNDED,
  });
  // A link to a file outside the grant, named through `..`.
  t.regex(await answer(p, 'link', { path: '/rw/hard', target: '/rw/../secret.txt' }), ERRNO);
  t.regex(await answer(p, 'read', { path: '/rw/hard' }), ERRNO);
  // A link to the planted symlink rw/escape -> ../secret.txt would be a second symlink, placed by the
  // guest: the worker engine makes no symlinks, so it refuses (Docker: the kernel refuses a link to a
  // file the plugin's uid does not own). wasmtime links it; reading through it must not reach the secret.
  t.regex(await answer(p, 'link', { path: '/rw/hard-esc', target: '/rw/escape' }), baseColumn(env.column) === 'wasmtime' ? /^"ok:done"$/ : ERRNO);
  t.regex(await answer(p, 'read', { path: '/rw/hard-esc' }), ERRNO);
  // A link placed outside the grant, to a granted file.
  t.regex(await answer(p, 'link', { path: '/rw/../planted', target: '/rw/sub/inner.txt' }), ERRNO);
  hostUntouched(t, env);
};

const SECRET = 'matrix-proc-hunter2';

const procWasm: CellFn = async (t, env) => {
  const p = await env.load(FS, { filesystem: [{ hostPath: env.sandbox.rw, mount: '/rw', access: 'read-write' }], unboundedWrites: UNBOUNDED });
  for (const path of ['/proc/self/environ', '/proc/1/cmdline', `/proc/${process.pid}/environ`, '/rw/../../proc/self/environ'])
    t.regex(await answer(p, 'read', { path }), ERRNO, path);
  t.regex(await answer(p, 'list', { path: '/proc' }), ERRNO);
};

const procDocker: CellFn = async (t, env) => {
  process.env.AIRLOCK_MATRIX_SECRET = SECRET;
  t.teardown(() => delete process.env.AIRLOCK_MATRIX_SECRET);
  const p = await env.load(FS, { env: { GRANTED: 'yes' } });
  // The container's own /proc: its environment is the grant plus the image's, never a host value.
  const environ = await answer(p, 'read', { path: '/proc/self/environ' });
  t.regex(environ, /^"ok:/);
  t.true(environ.includes('GRANTED=yes'), 'the granted variable is there');
  t.false(environ.includes(SECRET), 'no host value');
  // pid 1 is the container's init, the host's processes are not there.
  const init = await answer(p, 'read', { path: '/proc/1/cmdline' });
  t.regex(init, /^"ok:.*init/);
  t.false(init.includes(process.argv[1] ?? '\u0000'), 'pid 1 is not a host process');
  t.regex(await answer(p, 'read', { path: `/proc/${process.pid}/environ` }), ERRNO, "the host test process's pid does not exist in the container");
  const pids = JSON.parse(await answer(p, 'list', { path: '/proc' })) as string;
  t.false(pids.split(',').includes(String(process.pid)));
};

export const fsCells: CellImpls = {
  'fs.hardlink': { worker: hardlink, wasmtime: hardlink, 'docker-node': hardlink, 'docker-python': hardlink },
  'fs.proc': { worker: procWasm, wasmtime: procWasm, 'docker-node': procDocker, 'docker-python': procDocker },
};
