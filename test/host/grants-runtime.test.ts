/**
 * Grants changed at run time: host.revoke takes a filesystem grant away
 * between two calls and the second call is refused, on every engine (the
 * pooled instance is replaced, no restart); host.grant gives it back, never
 * beyond the host policy; each change is written to the policy file and to
 * the audit log.
 */
import test from 'ava';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { probeWasmtime } from '../../src/engines/wasmtime/index.ts';
import { isAirlockError } from '../../src/errors.ts';
import { loadPolicy } from '../../src/grants/policy.ts';
import { PluginHost } from '../../src/host/index.ts';
import { DOCKER } from '../engines/docker/helpers.ts';
import { tempDir } from '../helpers/plugin.ts';
import { requireExternal } from '../helpers/require.ts';
import { FIXTURES } from './helpers.ts';

const probe = await probeWasmtime();
const withWasmtime = requireExternal('wasmtime', probe.available, probe.reason ?? 'not found') ? test : test.skip;
const withDocker = DOCKER ? test : test.skip;

/** A copy of `fixture` granted its `data` folder (holding `in`, 5 bytes) at /data, and a policy file allowing it. */
function setUp(fixture: string, access: 'read' | 'read-write', extra: Record<string, unknown> = {}): { dir: string; data: string; policyFile: string } {
  const root = tempDir(`airlock-regrant-${fixture}-`);
  const dir = join(root, 'plugin');
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  const data = join(root, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'in'), 'hello');
  const manifest = readFileSync(join(dir, 'plugin.yaml'), 'utf8');
  writeFileSync(join(dir, 'plugin.yaml'), `${manifest}\n${stringify({ permissions: { filesystem: [{ path: '../data', mount: '/data', access }] } })}`);
  const policyFile = join(root, 'policy.yaml');
  writeFileSync(policyFile, `# the operator's comment stays\n${stringify({ filesystem: [{ path: './data', access }], ...extra })}`);
  return { dir, data, policyFile };
}

async function revokeBetweenCalls(
  t: import('ava').ExecutionContext,
  engine: 'wasm' | 'wasmtime' | 'docker',
  plugin: string,
  access: 'read' | 'read-write',
  extra: Record<string, unknown> = {},
): Promise<void> {
  const { dir, policyFile } = setUp(plugin, access, extra);
  const audit: Record<string, unknown>[] = [];
  const host = new PluginHost({ policy: policyFile, engine, audit: { onLine: (_l, e) => audit.push(e) } });
  t.teardown(() => host.close());
  t.is((await host.load(dir)).engine, engine);
  const tool = `${plugin}_read`;
  t.is((await host.call(tool, { path: '/data/in' })).value, 'ok:5');

  const change = await host.revoke(plugin, { filesystem: ['./data'] });
  t.is(change.policyFile, policyFile);
  const refused = await t.throwsAsync(host.call(tool, { path: '/data/in' }));
  t.true(isAirlockError(refused, 'plugin-error'), `the read is refused: ${String(refused)}`);
  t.deepEqual(host.plugins()[0]?.grants.filesystem, [], 'the plugin holds no filesystem grant');
  t.deepEqual(loadPolicy(policyFile).revoked, { [plugin]: { filesystem: ['./data'] } }, 'persisted');
  t.true(readFileSync(policyFile, 'utf8').includes("# the operator's comment stays"));
  t.like(
    audit.find((e) => e.type === 'revoke'),
    { plugin, filesystem: ['./data'], policyFile },
  );

  await host.grant(plugin, { filesystem: ['./data'] });
  t.is((await host.call(tool, { path: '/data/in' })).value, 'ok:5', 'given back');
  t.deepEqual(loadPolicy(policyFile).revoked, {});
  t.like(
    audit.find((e) => e.type === 'grant'),
    { plugin, filesystem: ['./data'] },
  );
}

test('worker engine: a filesystem grant revoked between two calls refuses the second, without a restart; granted back it works again', async (t) => {
  await revokeBetweenCalls(t, 'wasm', 'usage-c', 'read');
});

withWasmtime('wasmtime: a filesystem grant revoked between two calls refuses the second', async (t) => {
  await revokeBetweenCalls(t, 'wasmtime', 'usage-c', 'read-write', { unboundedWrites: ['wasmtime'] });
});

withDocker('Docker: a filesystem grant revoked between two calls refuses the second (a fresh container without the mount)', async (t) => {
  await revokeBetweenCalls(t, 'docker', 'node-usage', 'read');
});

test('a grant at run time never goes beyond the host policy, and a revocation persists across hosts', async (t) => {
  const { dir, policyFile } = setUp('usage-c', 'read');
  const host = new PluginHost({ policy: policyFile, engine: 'wasm' });
  t.teardown(() => host.close());
  await host.load(dir);
  const err = await t.throwsAsync(host.grant('usage-c', { network: ['api.example.com'], env: ['HOME'] }));
  t.true(isAirlockError(err, 'permission-denied'));
  t.regex(String(err?.message), /network access to "api.example.com" is not allowed by .*policy\.yaml; environment variable HOME is not allowed/);
  const bad = await t.throwsAsync(host.revoke('usage-c', { network: ['http://x/'] }));
  t.true(isAirlockError(bad, 'invalid-input'));
  await host.revoke('usage-c', { filesystem: ['./data'] });
  const next = new PluginHost({ policy: policyFile, engine: 'wasm' });
  t.teardown(() => next.close());
  t.deepEqual((await next.load(dir)).grants.filesystem, [], 'a host started later reads the revocation from the policy file');
});

withDocker('Docker (Python): a filesystem grant revoked between two calls refuses the second', async (t) => {
  const root = tempDir('airlock-regrant-python-');
  const dir = join(root, 'plugin');
  cpSync(join(FIXTURES, 'python-fs'), dir, { recursive: true });
  const policyFile = join(root, 'policy.yaml');
  writeFileSync(policyFile, stringify({ filesystem: [{ path: './plugin/data', access: 'read' }] }));
  const host = new PluginHost({ policy: policyFile, engine: 'docker' });
  t.teardown(() => host.close());
  t.is((await host.load(dir)).engine, 'docker');
  t.deepEqual((await host.call('python-fs_read', { path: '/data/hello.txt' })).value, { text: readFileSync(join(dir, 'data', 'hello.txt'), 'utf8') });
  await host.revoke('python-fs', { filesystem: ['./plugin/data'] });
  const refused = await t.throwsAsync(host.call('python-fs_read', { path: '/data/hello.txt' }));
  t.true(isAirlockError(refused, 'plugin-error'), `the read is refused: ${String(refused)}`);
});
