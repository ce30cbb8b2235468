/** Host-interference cells of the attack matrix. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../../src/build/fixtures.ts';
import type { CellFn } from '../engines.ts';
import type { CellImpls } from '../register.ts';
import { answer, ERRNO } from './calls.ts';

/**
 * A native plugin signals the host's test process, every process it may signal, and its container's
 * init: the host's pid does not exist in the container (ESRCH), and whatever the plugin kills inside
 * its container, a container serves the next call.
 */
const kill: CellFn = async (t, env) => {
  const p = await env.load({ wasm: 'none', node: 'attack-node', python: 'attack-python' });
  t.is(await answer(p, 'kill', { pid: process.pid, signal: 'SIGKILL' }), 'error:plugin-error:ESRCH', "the host's pid is not in the container");
  // -1: every process the plugin's uid may signal (in its own pid namespace); its own host process is spared.
  t.regex(await answer(p, 'kill', { pid: -1, signal: 'SIGKILL' }), /^("sent"|error:plugin-error:ESRCH)$/);
  t.is(await answer(p, 'ping', {}), '"pong"');
  // The container's init forwards SIGTERM to the in-container host: that container ends, during this
  // call or the next one (the signal is asynchronous); then a fresh container serves.
  t.regex(await answer(p, 'kill', { pid: 1, signal: 'SIGTERM' }), /^("sent"|error:crash)$/);
  const next = await answer(p, 'ping', {});
  t.regex(next, /^("pong"|error:crash)$/);
  if (next !== '"pong"') t.is(await answer(p, 'ping', {}), '"pong"', 'a fresh container serves the call after the crash');
  t.is(process.kill(process.pid, 0), true, 'the host process lives');
};

/**
 * Plugin A has a read-write grant and writes a secret there; plugin B, with a grant of its own, tries
 * A's folder by its host path, through `..` from its own grant, and A's plugin folder.
 */
const otherFiles: CellFn = async (t, env) => {
  const { ro, rw } = env.sandbox;
  const a = await env.load(
    { wasm: 'fs-escape' },
    { filesystem: [{ hostPath: rw, mount: '/rw', access: 'read-write' }], unboundedWrites: ['docker', 'wasmtime'] },
  );
  t.is(await answer(a, 'write', { path: '/rw/a-secret.txt' }), '"ok:written"');
  t.is(readFileSync(join(rw, 'a-secret.txt'), 'utf8'), 'pwned');
  writeFileSync(join(rw, 'a-only.txt'), 'for plugin A only');
  // Read-write: wasmtime refuses read-only grants (the worker engine would run B instead). Both accept
  // unbounded writes: this cell is about reaching another plugin's files, not filling a grant.
  const b = await env.load(
    { wasm: 'fs-escape' },
    { filesystem: [{ hostPath: ro, mount: '/ro', access: 'read-write' }], unboundedWrites: ['docker', 'wasmtime'] },
  );
  t.is(await answer(b, 'read', { path: '/ro/file.txt' }), '"ok:hello"', "B's own grant works");
  for (const path of [
    join(rw, 'a-only.txt'),
    join(rw, 'a-secret.txt'),
    '/ro/../rw/a-only.txt',
    '/rw/a-only.txt',
    join(FIXTURES_DIR, 'fs-escape', 'plugin.yaml'),
    join(FIXTURES_DIR, 'conformance-node', 'plugin.yaml'),
  ]) {
    t.regex(await answer(b, 'read', { path }), ERRNO, path);
  }
  t.regex(await answer(b, 'list', { path: rw }), ERRNO);
};

export const hostCells: CellImpls = {
  'host.kill': { 'docker-node': kill, 'docker-python': kill },
  'host.other-files': { worker: otherFiles, wasmtime: otherFiles, 'docker-node': otherFiles, 'docker-python': otherFiles },
};
