/**
 * Usage with every result, checked against known workloads on each engine:
 * a plugin that allocates 50 MiB reports at least that peak, one that writes
 * 1 MiB reports the bytes, and what an engine cannot measure is named in
 * `unmeasured`, never given as zero. Egress decisions made while a call runs
 * are that call's network usage.
 */
import test from 'ava';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { probeWasmtime } from '../../src/engines/wasmtime/index.ts';
import { isAirlockError } from '../../src/errors.ts';
import { PluginHost } from '../../src/host/index.ts';
import type { CallUsage } from '../../src/observe/usage.ts';
import { DOCKER } from '../engines/docker/helpers.ts';
import { tempDir } from '../helpers/plugin.ts';
import { requireExternal } from '../helpers/require.ts';
import { FIXTURES } from './helpers.ts';

const MiB = 1 << 20;
const probe = await probeWasmtime();
const withWasmtime = requireExternal('wasmtime', probe.available, probe.reason ?? 'not found') ? test : test.skip;
const withDocker = DOCKER ? test : test.skip;

/** A copy of a fixture with a read-write `data` folder granted at /data; the policy allows it. */
function withData(name: string, extra: Record<string, unknown> = {}): { dir: string; data: string; policy: Record<string, unknown> } {
  const dir = tempDir(`airlock-usage-${name}-`);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  const data = join(dir, 'data');
  mkdirSync(data);
  const manifest = readFileSync(join(dir, 'plugin.yaml'), 'utf8');
  writeFileSync(
    join(dir, 'plugin.yaml'),
    `${manifest}\n${stringify({ permissions: { filesystem: [{ path: './data', mount: '/data', access: 'read-write' }] } })}`,
  );
  return { dir, data, policy: { filesystem: [{ path: data, access: 'read-write' }], ...extra } };
}

function host(t: import('ava').ExecutionContext, options: ConstructorParameters<typeof PluginHost>[0]): PluginHost {
  const h = new PluginHost(options);
  t.teardown(() => h.close());
  return h;
}

test('worker engine: 50 MiB allocated is at least a 50 MiB peak, 1 MiB written and read back are counted, nothing unmeasured', async (t) => {
  const { dir, policy } = withData('usage-c');
  const h = host(t, { policy, engine: 'wasm' });
  await h.load(dir);
  const alloc = await h.call('usage-c_alloc', { mib: '50' });
  t.is(alloc.value, `ok:${50 * MiB}`);
  t.true(alloc.usage.memoryPeakBytes! >= 50 * MiB, `peak ${alloc.usage.memoryPeakBytes}`);
  t.true(alloc.usage.cpuMs! > 0);
  t.deepEqual(alloc.usage.unmeasured, []);
  t.is(alloc.usage.inputBytes, Buffer.byteLength('{"mib":"50"}'));
  t.is(alloc.usage.outputBytes, Buffer.byteLength(alloc.output));
  t.deepEqual(alloc.usage.network, { allowed: 0, refused: 0, failed: 0, hosts: [] });

  const write = await h.call('usage-c_write', { path: '/data/out', bytes: String(MiB) });
  t.is(write.value, `ok:${MiB}`);
  t.is(write.usage.files?.writeBytes, MiB);
  t.true(write.usage.files!.writes >= 16, 'at most 64 KiB a write');
  t.is(write.usage.files?.readBytes, 0);
  const read = await h.call('usage-c_read', { path: '/data/out' });
  t.is(read.usage.files?.readBytes, MiB);
  t.is(read.usage.files?.writeBytes, 0, 'the counts are per call');
  t.is(read.metrics.totalMs, read.usage.wallMs);
});

test('a failed call that reached the engine carries its usage in the error', async (t) => {
  const { dir, policy } = withData('usage-c');
  const h = host(t, { policy, engine: 'wasm' });
  await h.load(dir);
  const err = await t.throwsAsync(h.call('usage-c_read', { path: '/data/missing' }));
  t.true(isAirlockError(err, 'plugin-error'), String(err));
  const usage = (err as unknown as { details: { usage?: CallUsage } }).details.usage;
  t.is(usage?.outputBytes, 0);
  t.deepEqual(usage?.unmeasured, []);
  t.true((usage?.wallMs ?? 0) > 0);
});

test('network usage: the egress decisions made while a call ran, with their hosts (allowed and refused); the audit log records the decision', async (t) => {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const dir = tempDir('airlock-usage-net-');
  cpSync(join(FIXTURES, 'net'), dir, { recursive: true });
  writeFileSync(join(dir, 'plugin.yaml'), `${readFileSync(join(dir, 'plugin.yaml'), 'utf8')}\npermissions:\n  network:\n    allow: ["127.0.0.1:${port}"]\n`);
  const audit: Record<string, unknown>[] = [];
  const h = host(t, { policy: { network: { allow: [`127.0.0.1:${port}`] } }, engine: 'wasm', audit: { onLine: (_l, e) => audit.push(e) } });
  await h.load(dir);
  const ok = await h.call('net_http', { url: `http://127.0.0.1:${port}/x` });
  t.is(ok.value, 'ok:200');
  t.like(ok.usage.network, { allowed: 1, refused: 0, failed: 0, hosts: [{ host: '127.0.0.1', port, decision: 'allowed', count: 1 }] });
  t.like(
    audit.find((e) => e.type === 'egress'),
    { plugin: 'net', decision: 'allowed', host: '127.0.0.1', port },
  );
  const refused = await h.call('net_http', { url: `http://127.0.0.1:${port + 1}/x` });
  t.regex(String(refused.value), /^denied:/);
  t.like(refused.usage.network, { allowed: 0, refused: 1, hosts: [{ host: '127.0.0.1', port: port + 1, decision: 'refused', code: 'not-allowed' }] });
});

withWasmtime('wasmtime: the bytes are measured, CPU, memory and files are named unmeasured (one process per call, no usage from the CLI)', async (t) => {
  const { dir, policy, data } = withData('usage-c', { unboundedWrites: ['wasmtime'] });
  const h = host(t, { policy, engine: 'wasmtime' });
  t.is((await h.load(dir)).engine, 'wasmtime');
  const write = await h.call('usage-c_write', { path: '/data/out', bytes: String(MiB) });
  t.is(write.value, `ok:${MiB}`);
  t.is(readFileSync(join(data, 'out')).length, MiB);
  t.deepEqual(write.usage.unmeasured, ['cpuMs', 'memoryPeakBytes', 'files']);
  t.is(write.usage.files, undefined);
  t.is(write.usage.cpuMs, undefined);
  t.is(write.usage.inputBytes, Buffer.byteLength(JSON.stringify({ path: '/data/out', bytes: String(MiB) })));
});

withDocker('Docker: 50 MiB allocated is at least that peak (the container cgroup), CPU from the container, files unmeasured', async (t) => {
  const h = host(t, { engine: 'docker' });
  t.is((await h.load(join(FIXTURES, 'node-usage'))).engine, 'docker');
  const alloc = await h.call('node-usage_alloc', { mib: 50 });
  t.is(alloc.value, `ok:${50 * MiB}`);
  t.true(alloc.usage.cpuMs! > 0, `cpu ${alloc.usage.cpuMs}`);
  t.true(alloc.usage.unmeasured.includes('files'));
  if (alloc.usage.unmeasured.includes('memoryPeakBytes')) {
    t.is(alloc.usage.memoryPeakBytes, undefined);
    t.log('no peak memory in this cgroup (kernel without memory.peak)');
  } else {
    t.true(alloc.usage.memoryPeakBytes! >= 50 * MiB, `peak ${alloc.usage.memoryPeakBytes}`);
  }
  t.deepEqual(alloc.usage.network, { allowed: 0, refused: 0, failed: 0, hosts: [] });
});
