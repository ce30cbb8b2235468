import test from 'ava';
import Docker from 'dockerode';
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatProbes, probeDocker, probeWasm, probeWasmtimeEngine } from '../../src/engines/probe.ts';
import { findWasmtime } from '../../src/engines/wasmtime/index.ts';

test('the worker engine is always available', (t) => {
  t.like(probeWasm(), { engine: 'wasm', available: true });
});

test('a Docker daemon that does not answer is unavailable, with the reason and the install hint', async (t) => {
  const p = await probeDocker({ docker: new Docker({ socketPath: '/nonexistent/docker.sock' }), timeoutMs: 500 });
  t.false(p.available);
  t.regex(p.reason ?? '', /does not answer/);
  t.regex(p.installHint ?? '', /docker/i);
});

test('AIRLOCK_WASMTIME wins, and a bad one is unavailable with the install hint (no fallback to PATH)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-probe-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fake = join(dir, 'wasmtime');
  await writeFile(fake, '#!/bin/sh\necho "wasmtime 99.1.2 (fake)"\n');
  await chmod(fake, 0o755);
  t.like(await findWasmtime({ AIRLOCK_WASMTIME: fake, PATH: '' }), { path: fake, source: 'AIRLOCK_WASMTIME' });
  t.like(await probeWasmtimeEngine({ AIRLOCK_WASMTIME: fake, PATH: '' }), { available: true, version: '99.1.2', path: fake });
  t.like(await findWasmtime({ PATH: dir }), { path: fake, source: 'PATH' });
  const bad = await probeWasmtimeEngine({ AIRLOCK_WASMTIME: join(dir, 'missing'), PATH: dir });
  t.false(bad.available);
  t.regex(bad.reason ?? '', /AIRLOCK_WASMTIME/);
  t.regex(bad.installHint ?? '', /install-wasmtime\.sh/);
});

test('a binary that does not answer --version like wasmtime is unavailable', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-probe-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fake = join(dir, 'wasmtime');
  await writeFile(fake, '#!/bin/sh\necho nope\n');
  await chmod(fake, 0o755);
  const p = await probeWasmtimeEngine({ AIRLOCK_WASMTIME: fake });
  t.false(p.available);
  t.regex(p.reason ?? '', /--version/);
});

test('formatProbes prints one line per engine with the version or the fix', (t) => {
  const lines = formatProbes({
    wasm: { engine: 'wasm', available: true, version: 'node 24' },
    wasmtime: { engine: 'wasmtime', available: false, reason: 'not found', installHint: 'run .ci/install-wasmtime.sh' },
    docker: { engine: 'docker', available: true, version: '26.1.5', path: '/var/run/docker.sock' },
  });
  t.deepEqual(lines, [
    'wasm      available  node 24',
    'wasmtime  missing    not found  (fix: run .ci/install-wasmtime.sh)',
    'docker    available  26.1.5  /var/run/docker.sock',
  ]);
});
