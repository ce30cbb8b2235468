/**
 * Hostile plugins on a remote daemon (a TLS terminator on loopback in front
 * of this machine's socket, ./tls-daemon.ts): what the attack matrix's
 * remote columns claim beyond the conformance suite. The protocol with the
 * in-container host, the image build and a grant revoked at run time behave
 * as on the local socket, with the image built and the containers run
 * through the TLS connection.
 */
import test from 'ava';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { isAirlockError } from '../../../../src/errors.ts';
import type { Grants } from '../../../../src/grants/types.ts';
import { PluginHost } from '../../../../src/host/index.ts';
import { manifestObject, tempDir, writePlugin } from '../../../helpers/plugin.ts';
import { DOCKER, engine, FIXTURES, grantsFor } from '../helpers.ts';
import { makePki, startTerminator, tlsSetting, type Terminator } from './tls-daemon.ts';
import { forgeriesStayThePlugins } from '../../../helpers/forge.ts';

const t = DOCKER ? test.serial : test.serial.skip;

const pki = makePki('hostile');
let term: Terminator | undefined;
const docker = engine();
test.before(async () => {
  if (DOCKER) term = await startTerminator(pki);
});
test.after.always(async () => {
  await docker.close();
  await term?.close();
});

/** A host policy in `root` granting `readOnly` (relative to it) and naming `term`'s daemon, with the client certificate. */
function remotePolicy(root: string, term: Terminator, readOnly: string): string {
  const certs = relative(root, pki.client);
  const file = join(root, 'policy.yaml');
  writeFileSync(
    file,
    stringify({
      filesystem: [{ path: readOnly, access: 'read' }],
      docker: { host: `tcp://127.0.0.1:${term.port}`, tls: { ca: `${certs}/ca.pem`, cert: `${certs}/cert.pem`, key: `${certs}/key.pem` } },
    }),
  );
  return file;
}

/** `grants` pointed at the TLS daemon. */
function remote(grants: Grants): Grants {
  if (term === undefined) throw new Error('no terminator');
  return { ...grants, docker: tlsSetting(term.port, pki.client) };
}

for (const name of ['node-forge', 'python-forge']) {
  t(`on a remote daemon, ${name}: host errors forged on the protocol stream are the plugin's errors; the container is kept`, async (t) => {
    const before = term?.forwarded ?? 0;
    const p = await docker.load(remote(grantsFor(name)));
    t.teardown(() => p.close());
    await forgeriesStayThePlugins(t, p);
    t.true((term?.forwarded ?? 0) > before, 'the calls went through the TLS terminator');
  });
}

t('on a remote daemon, a Python fork bomb: the pids limit holds it, the timeout ends the call, a fresh container follows', async (t) => {
  const p = await docker.load(remote(grantsFor('python-forkbomb')));
  t.teardown(() => p.close());
  const err = await t.throwsAsync(p.call('bomb', '{}'));
  t.true(isAirlockError(err, 'timeout'), String(err));
  t.is((await p.call('ping', '{}')).output, '"pong"');
});

t('on a remote daemon, a protocol line past the engine bound is output-limit and the container is replaced', async (t) => {
  const base = grantsFor('node-forge');
  // Small limits give a small bound: 6 x (output + logs) + 64 KiB = 76 KiB.
  const p = await docker.load(remote({ ...base, resources: { ...base.resources, outputBytes: 1024, logBytes: 1024 } }));
  t.teardown(() => p.close());
  const err = await t.throwsAsync(p.call('long_line', JSON.stringify({ bytes: 80 * 1024 })));
  t.true(isAirlockError(err, 'output-limit'), String(err));
  t.is((await p.call('ping', '{}')).output, '"pong"');
});

t(
  "on a remote daemon, no package.json script and no setup.py has run in the plugin's image, and a build past its timeout fails with build-failed",
  async (t) => {
    const node = await docker.load(remote(grantsFor('node-postinstall')));
    t.teardown(() => node.close());
    t.deepEqual(JSON.parse((await node.call('markers', '{}')).output), [], 'no install script left a marker');
    const python = await docker.load(remote(grantsFor('python-setup')));
    t.teardown(() => python.close());
    t.deepEqual(JSON.parse((await python.call('markers', '{}')).output), { markers: [], humanize: true }, 'setup.py never ran');
    const short = engine({ buildLimits: { timeoutMs: 1 } });
    t.teardown(() => short.close());
    // A nonce, so no earlier run has built (and cached) this content: the build runs on the daemon, through TLS.
    const plugin = writePlugin(manifestObject({ name: 'python-slowbuild' }), { 'main.py': `# ${randomUUID()}\n` });
    const slow = await t.throwsAsync(short.build(remote(grantsFor(plugin.dir))));
    t.true(isAirlockError(slow, 'build-failed'), String(slow));
    t.regex(slow?.message ?? '', /past its timeout of 1 ms/);
  },
);

t('on a remote daemon, a read-only grant revoked between two calls refuses the second (a fresh container without the volume)', async (t) => {
  // A terminator of its own: a client kept alive from another test would reach the daemon without a new connection.
  const term = await startTerminator(pki);
  t.teardown(() => term.close());
  const root = tempDir('airlock-remote-regrant-');
  const dir = join(root, 'plugin');
  cpSync(join(FIXTURES, 'node-usage'), dir, { recursive: true });
  mkdirSync(join(root, 'data'));
  writeFileSync(join(root, 'data', 'in'), 'hello');
  const manifest = readFileSync(join(dir, 'plugin.yaml'), 'utf8');
  writeFileSync(join(dir, 'plugin.yaml'), `${manifest}\n${stringify({ permissions: { filesystem: [{ path: '../data', mount: '/data', access: 'read' }] } })}`);
  const policyFile = remotePolicy(root, term, './data');
  const before = term.forwarded;
  const host = new PluginHost({ policy: policyFile, engine: 'docker' });
  t.teardown(() => host.close());
  t.is((await host.load(dir)).engine, 'docker');
  t.true(term.forwarded > before, 'the policy sent the plugin to the TLS daemon');
  t.is((await host.call('node-usage_read', { path: '/data/in' })).value, 'ok:5');
  await host.revoke('node-usage', { filesystem: ['./data'] });
  const refused = await t.throwsAsync(host.call('node-usage_read', { path: '/data/in' }));
  t.true(isAirlockError(refused, 'plugin-error'), `the read is refused: ${String(refused)}`);
});

t('on a remote daemon, a Python plugin’s read-only grant revoked between two calls refuses the second', async (t) => {
  // A terminator of its own: a client kept alive from another test would reach the daemon without a new connection.
  const term = await startTerminator(pki);
  t.teardown(() => term.close());
  const root = tempDir('airlock-remote-regrant-python-');
  const dir = join(root, 'plugin');
  cpSync(join(FIXTURES, 'python-fs'), dir, { recursive: true });
  const policyFile = remotePolicy(root, term, './plugin/data');
  const before = term.forwarded;
  const host = new PluginHost({ policy: policyFile, engine: 'docker' });
  t.teardown(() => host.close());
  t.is((await host.load(dir)).engine, 'docker');
  t.true(term.forwarded > before, 'the policy sent the plugin to the TLS daemon');
  t.deepEqual((await host.call('python-fs_read', { path: '/data/hello.txt' })).value, { text: readFileSync(join(dir, 'data', 'hello.txt'), 'utf8') });
  await host.revoke('python-fs', { filesystem: ['./plugin/data'] });
  const refused = await t.throwsAsync(host.call('python-fs_read', { path: '/data/hello.txt' }));
  t.true(isAirlockError(refused, 'plugin-error'), `the read is refused: ${String(refused)}`);
});
