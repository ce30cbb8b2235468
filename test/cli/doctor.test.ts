import test from 'ava';
import { writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import type { Check } from '../../src/doctor/index.ts';
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

test.serial('doctor --json: Node, each engine with availability, version and path, the toolchains and base images', async (t) => {
  const bin = join(tempDir(), 'wasmtime');
  writeFileSync(bin, '#!/bin/sh\necho "wasmtime 48.0.8 (fake for tests)"\n', { mode: 0o755 });
  const run = await doctor({ AIRLOCK_WASMTIME: bin }, ['--json']);
  const report = JSON.parse(run.stdout) as { node: Check; engines: Record<string, EngineProbe>; toolchains: Check[]; images: Check[] };
  t.like(report.node, { name: 'node', ok: true });
  t.true(report.node.detail.startsWith(process.versions.node));
  t.deepEqual(
    report.toolchains.map((c) => c.name),
    ['componentize-js', 'componentize-py', 'clang/wasi-libc', 'bubblewrap', 'cargo'],
  );
  const probes = report.engines;
  t.deepEqual(Object.keys(probes), ['wasm', 'wasmtime', 'docker', 'kubernetes']);
  t.like(probes.wasm, { engine: 'wasm', available: true, path: process.execPath });
  t.like(probes.wasmtime, { engine: 'wasmtime', available: true, version: '48.0.8', path: bin });
  t.is(run.code, probes.docker!.available ? 0 : 1);
});

test.serial('doctor: the Node running Airlock, and each missing build toolchain with its fix line', async (t) => {
  const run = await doctor({ PATH: tempDir() });
  t.regex(run.stdout, new RegExp(`^node +found +${process.versions.node.replaceAll('.', '\\.')} `, 'm'));
  t.regex(run.stdout, /^componentize-js +found +\d+\.\d+\.\d+/m);
  t.regex(run.stdout, /^componentize-py +missing +componentize-py is not on PATH.*\(fix: pip install componentize-py==/m);
  t.regex(run.stdout, /^clang\/wasi-libc +missing +clang is not on PATH.*\(fix: apt-get install clang lld wasi-libc/m);
  t.regex(run.stdout, /^bubblewrap +missing +bwrap is not on PATH.*\(fix: apt-get install bubblewrap/m);
  t.regex(run.stdout, /^cargo +missing +cargo is not on PATH.*\(fix: install Rust with rustup.*rustup target add wasm32-wasip2\)/m);
});

test('doctor takes no arguments', async (t) => {
  t.is((await cli(['doctor', 'extra'])).code, 2);
});

test.serial(
  "doctor --policy: the Docker daemon and the Kubernetes cluster the policy names are probed, each missing with why (not the environment's daemon, not 'not configured')",
  async (t) => {
    const dir = tempDir();
    // A loopback port nothing listens on: the policy's daemon does not answer.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    writeFileSync(
      join(dir, 'policy.yaml'),
      `docker:\n  host: tcp://127.0.0.1:${port}\n  insecure: true\nkubernetes:\n  kubeconfig: cluster/none.kubeconfig\n  registry: 127.0.0.1:5000\n  networkPolicy: enforced\n`,
    );
    const run = await doctor({}, ['--policy', join(dir, 'policy.yaml'), '--json']);
    const engines = (JSON.parse(run.stdout) as { engines: Record<string, EngineProbe> }).engines;
    t.is(run.code, 1);
    t.false(engines.docker!.available);
    t.regex(engines.docker!.reason ?? '', new RegExp(`tcp://127\\.0\\.0\\.1:${port}`));
    t.false(engines.kubernetes!.available);
    t.not(engines.kubernetes!.unconfigured, true);
    t.regex(engines.kubernetes!.reason ?? '', /none\.kubeconfig/);
    // Without --policy the cluster is not configured: not a fault.
    const plain = JSON.parse((await doctor({}, ['--json'])).stdout) as { engines: Record<string, EngineProbe> };
    t.true(plain.engines.kubernetes!.unconfigured);
  },
);
