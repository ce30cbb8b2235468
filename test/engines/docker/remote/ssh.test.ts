/**
 * The Docker engine on a host reached over SSH (./ssh-daemon.ts): docker's
 * `dial-stdio` through an SSH session, the host's key checked against a
 * known_hosts file (dockerode's transport checks none), the client key
 * from the host policy's docker.ssh.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAirlockError } from '../../../../src/errors.ts';
import { tempDir } from '../../../helpers/plugin.ts';
import { DOCKER, engine, FIXTURES, grantsFor } from '../helpers.ts';
import { startSshHost } from './ssh-daemon.ts';

const t = DOCKER ? test.serial : test.serial.skip;

t('a plugin runs on a daemon reached over ssh:// whose host key known_hosts lists, with the same results and errors', async (t) => {
  const host = await startSshHost();
  t.teardown(() => host.close());
  const remote = engine({ daemon: { host: `ssh://airlock@127.0.0.1:${host.port}`, ssh: { key: host.clientKey, knownHosts: host.knownHosts } } });
  t.teardown(() => remote.close());
  const p = await remote.load(grantsFor('conformance-python'));
  t.teardown(() => p.close());
  t.is(JSON.parse((await p.call('add', JSON.stringify({ a: 20, b: 22 }))).output), 42);
  const failed = await t.throwsAsync(p.call('fail', JSON.stringify({ why: 'on purpose' })));
  t.true(isAirlockError(failed, 'plugin-error'), String(failed));
  t.true(host.dialled > 0, 'the engine went through the SSH host');
});

t('a host key known_hosts does not list for the host is refused, naming the file and the fix; nothing is dialled', async (t) => {
  const host = await startSshHost();
  t.teardown(() => host.close());
  const remote = engine({ daemon: { host: `ssh://airlock@127.0.0.1:${host.port}`, ssh: { key: host.clientKey, knownHosts: host.wrongKnownHosts } } });
  t.teardown(() => remote.close());
  const err = await t.throwsAsync(remote.load(grantsFor('conformance-node')));
  t.true(isAirlockError(err, 'engine-unavailable'), String(err));
  t.regex(err.message, /SSH key is not one .*known_hosts\.wrong lists for it/);
  t.regex(err.message, /ssh-keyscan/);
  t.is(host.dialled, 0);
});

t('a client key the host does not accept is refused, naming the key', async (t) => {
  const host = await startSshHost();
  t.teardown(() => host.close());
  const remote = engine({ daemon: { host: `ssh://airlock@127.0.0.1:${host.port}`, ssh: { key: host.otherKey, knownHosts: host.knownHosts } } });
  t.teardown(() => remote.close());
  const err = await t.throwsAsync(remote.load(grantsFor('conformance-node')));
  t.true(isAirlockError(err, 'engine-unavailable'), String(err));
  t.regex(err.message, /refused the SSH key/);
  t.true(err.message.includes(host.otherKey), err.message);
  t.is(host.dialled, 0);
});

t('airlock call through the host policy’s ssh:// daemon answers and exits (the shared SSH connection ends when idle)', async (t) => {
  const host = await startSshHost();
  t.teardown(() => host.close());
  const dir = tempDir('airlock-ssh-policy-');
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, `docker:\n  host: ssh://airlock@127.0.0.1:${host.port}\n  ssh: { key: ${host.clientKey}, knownHosts: ${host.knownHosts} }\n`);
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('DOCKER_')) env[k] = v;
  const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'src/cli/main.ts'), 'call', join(FIXTURES, 'conformance-node'), 'add', '{"a":20,"b":22}', '--policy', policy],
      { cwd: root, env, timeout: 300_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    );
  });
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout.trim(), '42');
  t.true(host.dialled > 0);
});
