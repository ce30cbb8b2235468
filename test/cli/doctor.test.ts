import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineProbe } from '../../src/engines/probe.ts';
import { cli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/plugin.ts';

async function doctor(env: Record<string, string>, args: string[] = []): Promise<Awaited<ReturnType<typeof cli>>> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await cli(['doctor', ...args]);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test.serial('doctor: a missing engine is reported with why and how to install it, and the exit status is 1', async (t) => {
  const run = await doctor({ AIRLOCK_WASMTIME: join(tempDir(), 'missing'), DOCKER_HOST: `unix://${join(tempDir(), 'none.sock')}` });
  t.is(run.code, 1);
  t.regex(run.stdout, /^wasm {6}available {2}node \d+\.\d+\.\d+/m);
  t.regex(
    run.stdout,
    /^wasmtime {2}missing {4}AIRLOCK_WASMTIME=.*missing is not an executable file {2}\(fix: install the wasmtime CLI: `\.ci\/install-wasmtime\.sh`/m,
  );
  t.regex(run.stdout, /^docker {4}missing {4}the Docker daemon at unix:\/\/.*none\.sock does not answer.*\(fix: install Docker/m);
});

test.serial('doctor --json: each engine with availability, version and path', async (t) => {
  const bin = join(tempDir(), 'wasmtime');
  writeFileSync(bin, '#!/bin/sh\necho "wasmtime 48.0.8 (fake for tests)"\n', { mode: 0o755 });
  const run = await doctor({ AIRLOCK_WASMTIME: bin }, ['--json']);
  const probes = JSON.parse(run.stdout) as Record<string, EngineProbe>;
  t.deepEqual(Object.keys(probes), ['wasm', 'wasmtime', 'docker']);
  t.like(probes.wasm, { engine: 'wasm', available: true, path: process.execPath });
  t.like(probes.wasmtime, { engine: 'wasmtime', available: true, version: '48.0.8', path: bin });
  t.is(run.code, probes.docker!.available ? 0 : 1);
});

test('doctor takes no arguments', async (t) => {
  t.is((await cli(['doctor', 'extra'])).code, 2);
});
