/**
 * Which daemon the Docker engine talks to (src/engines/docker/daemon.ts):
 * the host policy's docker: section, else the standard environment, else
 * the local socket; what counts as remote; what is refused before anything
 * is sent.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHmac, randomBytes } from 'node:crypto';
import { dockerClient } from '../../../src/engines/docker/client.ts';
import { LOCAL_SOCKET, resolveDaemon } from '../../../src/engines/docker/daemon.ts';
import { hostVerifier, knownHostName, knownKeys } from '../../../src/engines/docker/known-hosts.ts';
import { isAirlockError } from '../../../src/errors.ts';
import { loadPolicy, policyFromObject } from '../../../src/grants/policy.ts';
import { tempDir } from '../../helpers/plugin.ts';

test('no setting and no DOCKER_HOST: the local socket, not remote', (t) => {
  const d = resolveDaemon(undefined, {});
  t.false(d.remote);
  t.is(d.where, LOCAL_SOCKET);
  t.false(resolveDaemon(undefined, { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }).remote);
});

test('DOCKER_HOST tcp:// with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH: remote, mutual TLS from ca.pem, cert.pem and key.pem', (t) => {
  const d = resolveDaemon(undefined, { DOCKER_HOST: 'tcp://10.0.0.5:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' });
  t.true(d.remote);
  t.deepEqual(d.setting.tls, { ca: '/certs/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem' });
  t.regex(d.where, /tcp:\/\/10\.0\.0\.5:2376 \(TLS, DOCKER_HOST\)/);
  // A bare host:port is read as tcp://, as docker's CLI reads it.
  t.is(resolveDaemon(undefined, { DOCKER_HOST: '10.0.0.5:2376', DOCKER_CERT_PATH: '/certs' }).setting.host, 'tcp://10.0.0.5:2376');
});

test('a tcp:// daemon on loopback is still remote: the engine cannot know it shares this machine’s files', (t) => {
  t.true(resolveDaemon({ host: 'tcp://127.0.0.1:2376', tls: { ca: '/a', cert: '/b', key: '/c' } }).remote);
});

test('plain TCP is refused naming the fix, unless accepted by AIRLOCK_DOCKER_INSECURE=1 or docker.insecure', (t) => {
  const e = t.throws(() => resolveDaemon(undefined, { DOCKER_HOST: 'tcp://10.0.0.5:2375' }));
  t.true(isAirlockError(e, 'engine-unavailable'));
  t.regex(e.message, /plain TCP without TLS.*DOCKER_TLS_VERIFY=1.*AIRLOCK_DOCKER_INSECURE=1/s);
  t.true(resolveDaemon(undefined, { DOCKER_HOST: 'tcp://10.0.0.5:2375', AIRLOCK_DOCKER_INSECURE: '1' }).remote);
  t.true(resolveDaemon({ host: 'tcp://10.0.0.5:2375', insecure: true }).remote);
});

test('ssh:// without a key or a user, unknown schemes and a missing port are refused with the reason', (t) => {
  t.regex(t.throws(() => resolveDaemon(undefined, { DOCKER_HOST: 'ssh://me@box' })).message, /no SSH key: run an ssh-agent.*docker\.ssh\.key/);
  t.regex(t.throws(() => resolveDaemon(undefined, { DOCKER_HOST: 'ssh://box', SSH_AUTH_SOCK: '/agent' })).message, /names no user/);
  const ssh = resolveDaemon(undefined, { DOCKER_HOST: 'ssh://me@box', SSH_AUTH_SOCK: '/agent' });
  t.true(ssh.remote);
  t.regex(ssh.setting.ssh?.knownHosts ?? '', /\.ssh\/known_hosts$/);
  t.regex(t.throws(() => resolveDaemon({ host: 'ftp://box:21' })).message, /unsupported scheme ftp:/);
  t.regex(t.throws(() => resolveDaemon(undefined, { DOCKER_HOST: 'tcp://box', DOCKER_TLS_VERIFY: '1' })).message, /names no port/);
});

test('the host policy docker: section wins over DOCKER_HOST', (t) => {
  const d = resolveDaemon({ host: 'tcp://policy:2376', tls: { ca: '/p/ca', cert: '/p/cert', key: '/p/key' } }, { DOCKER_HOST: 'tcp://env:2376' });
  t.is(d.setting.host, 'tcp://policy:2376');
  t.regex(d.where, /host policy/);
});

test('a certificate file that cannot be read is named, with where it should be', (t) => {
  const d = resolveDaemon({ host: 'tcp://127.0.0.1:2376', tls: { ca: '/nonexistent/ca.pem', cert: '/nonexistent/cert.pem', key: '/nonexistent/key.pem' } });
  const e = t.throws(() => dockerClient(d));
  t.true(isAirlockError(e, 'engine-unavailable'));
  t.regex(e.message, /the CA certificate for the Docker daemon at tcp:\/\/127\.0\.0\.1:2376 cannot be read from \/nonexistent\/ca\.pem/);
});

test('policy docker.tls paths resolve against the policy file; a host that is no daemon address is invalid-policy', (t) => {
  const dir = tempDir('airlock-policy-docker-');
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, 'docker:\n  host: tcp://box:2376\n  tls: { ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem }\n');
  t.deepEqual(loadPolicy(file).docker?.tls, { ca: join(dir, 'certs/ca.pem'), cert: join(dir, 'certs/cert.pem'), key: join(dir, 'certs/key.pem') });
  const e = t.throws(() => policyFromObject({ docker: { host: 'box:2376' } }));
  t.true(isAirlockError(e, 'invalid-policy'));
  t.regex(e.message, /docker\.host: expected unix:\/\/\/path\/docker\.sock, tcp:\/\/host:port or ssh:\/\/user@host/);
});

test('known_hosts: plain, [host]:port and hashed names match; other hosts, @cert-authority lines and @revoked keys do not admit a key', (t) => {
  const key = randomBytes(51);
  const other = randomBytes(51);
  const b64 = key.toString('base64');
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[box]:2222').digest('base64')}`;
  t.is(knownHostName('box', 22), 'box');
  t.is(knownHostName('box', 2222), '[box]:2222');
  const text = `# comment\nbox,alias ssh-ed25519 ${b64}\n${hashed} ssh-ed25519 ${b64}\n@cert-authority * ssh-ed25519 ${other.toString('base64')}\nelse ssh-ed25519 ${other.toString('base64')}\n`;
  t.is(knownKeys(text, 'box').length, 1);
  t.is(knownKeys(text, 'alias').length, 1);
  t.is(knownKeys(text, '[box]:2222').length, 1);
  t.is(knownKeys(text, '[box]:2223').length, 0);
  t.is(knownKeys(text, 'nobody').length, 0, 'a @cert-authority wildcard is not a key for the host');
  const dir = tempDir('airlock-known-hosts-');
  const file = join(dir, 'known_hosts');
  writeFileSync(file, text);
  t.true(hostVerifier(file, 'box')(key));
  t.false(hostVerifier(file, 'box')(other));
  t.false(hostVerifier(file, 'else')(key));
  writeFileSync(file, `${text}@revoked box ssh-ed25519 ${b64}\n`);
  t.false(hostVerifier(file, 'box')(key), 'a revoked key is refused even when listed');
  t.false(hostVerifier(join(dir, 'missing'), 'box')(key), 'no file: no key is known');
});
