/**
 * Which Docker daemon the engine talks to (its client is built in ./client.ts).
 * The host policy's `docker:` section (carried in the grants) comes
 * first, then the standard environment (DOCKER_HOST, DOCKER_TLS_VERIFY,
 * DOCKER_CERT_PATH), then the local socket.
 *
 * A daemon reached over TCP is treated as remote whatever its address: the
 * engine cannot know that it shares this machine's filesystem, so nothing
 * local is bind-mounted there (./options.ts refuses filesystem grants; the
 * egress proxy's files travel in an image, ./egress-image.ts).
 *
 * Plain TCP is refused unless asked for by name: whoever reaches that port
 * runs root containers on the daemon, and whoever sits on the path can pose
 * as the daemon. TLS always verifies the daemon's certificate against the
 * given CA (docker's "--tls without --tlsverify" mode is not offered).
 * `ssh://` runs `docker system dial-stdio` on the host, as docker's CLI does;
 * dockerode's ssh transport accepts any host key, so the key is checked here
 * against a known_hosts file (./known-hosts.ts), as ssh would.
 *
 * This file only decides, without dockerode: the engine's definition and refusals use it in every process.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AirlockError } from '../../errors.ts';
import type { DockerDaemonSetting } from '../../grants/types.ts';

export type { DockerDaemonSetting } from '../../grants/types.ts';

export const LOCAL_SOCKET = '/var/run/docker.sock';

export interface DockerDaemon {
  /** The setting it came from, with `host` normalised. */
  setting: DockerDaemonSetting;
  /** How messages name it, with where the setting came from: `tcp://10.0.0.5:2376 (TLS, DOCKER_HOST)`. */
  where: string;
  /** Reached over the network: no bind mount of a local path is used there. */
  remote: boolean;
  /** One string per distinct daemon (clients are shared by it). */
  key: string;
}

export function configError(message: string, cause?: unknown): AirlockError {
  return new AirlockError('engine-unavailable', message, cause === undefined ? {} : { cause });
}

/** The daemon for a plugin: the policy's `docker:` (in its grants) when set, else the environment's. */
export function resolveDaemon(setting: DockerDaemonSetting | undefined, env: NodeJS.ProcessEnv = process.env): DockerDaemon {
  const from = setting === undefined ? 'DOCKER_HOST' : 'the host policy docker.host';
  const s = setting ?? settingFromEnv(env);
  let host = s.host;
  if (!/^[a-z]+:\/\//.test(host)) host = `tcp://${host}`; // as docker's CLI reads a bare host:port
  let url: URL;
  try {
    url = new URL(host);
  } catch (e) {
    throw configError(`${from} "${s.host}" is not a daemon address; expected unix:///path/docker.sock or tcp://host:2376`, e);
  }
  const normalised: DockerDaemonSetting = { ...s, host };
  if (url.protocol === 'unix:') {
    // Named as configured (unix:///…), or as the default socket's path when nothing was.
    const named = setting !== undefined || (env.DOCKER_HOST !== undefined && env.DOCKER_HOST !== '');
    return { setting: normalised, where: named ? host : LOCAL_SOCKET, remote: false, key: `unix:${url.pathname}` };
  }
  if (url.protocol === 'ssh:') {
    const ssh = {
      knownHosts: s.ssh?.knownHosts ?? join(homedir(), '.ssh', 'known_hosts'),
      ...(s.ssh?.key === undefined ? {} : { key: s.ssh.key }),
    };
    if (ssh.key === undefined && (env.SSH_AUTH_SOCK ?? '') === '')
      throw configError(`${from} ${host}: no SSH key: run an ssh-agent holding one (SSH_AUTH_SOCK), or name a key file in the host policy's docker.ssh.key`);
    if (url.username === '') throw configError(`${from} ${host} names no user; use ssh://user@host`);
    return {
      setting: { ...normalised, ssh },
      where: `${host} (SSH, host key from ${ssh.knownHosts}, ${setting === undefined ? 'DOCKER_HOST' : 'host policy'})`,
      remote: true,
      key: JSON.stringify({ ...normalised, ssh }),
    };
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'https:' && url.protocol !== 'http:')
    throw configError(`${from} ${host}: unsupported scheme ${url.protocol}; use unix://, tcp:// or ssh://`);
  if (url.port === '') throw configError(`${from} ${host} names no port; add one, e.g. tcp://${url.hostname}:2376`);
  if (s.tls === undefined && s.insecure !== true) {
    throw configError(
      `${from} ${host} is plain TCP without TLS: anyone who reaches that port runs root containers on the daemon, and anyone on the path can pose as it. Use TLS (DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH with ca.pem, cert.pem, key.pem; or docker.tls in the host policy), or accept plain TCP explicitly with AIRLOCK_DOCKER_INSECURE=1 (policy: docker.insecure: true)`,
    );
  }
  const tls = s.tls !== undefined;
  return {
    setting: normalised,
    where: `tcp://${url.host} (${tls ? 'TLS' : 'plain TCP, accepted as insecure'}, ${setting === undefined ? 'DOCKER_HOST' : 'host policy'})`,
    remote: true,
    key: JSON.stringify(normalised),
  };
}

/** DOCKER_HOST and friends, read the way docker's CLI reads them (except that TLS always verifies). */
function settingFromEnv(env: NodeJS.ProcessEnv): DockerDaemonSetting {
  const host = env.DOCKER_HOST === undefined || env.DOCKER_HOST === '' ? `unix://${LOCAL_SOCKET}` : env.DOCKER_HOST;
  const verify = env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '' && env.DOCKER_TLS_VERIFY !== '0';
  const certPath = env.DOCKER_CERT_PATH === undefined || env.DOCKER_CERT_PATH === '' ? undefined : env.DOCKER_CERT_PATH;
  const setting: DockerDaemonSetting = { host };
  if (verify || certPath !== undefined) {
    const dir = certPath ?? join(homedir(), '.docker');
    setting.tls = { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  }
  if (env.AIRLOCK_DOCKER_INSECURE === '1') setting.insecure = true;
  return setting;
}

const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Why a daemon did not answer, in words that name the fix (TLS failures especially). */
export function daemonFailure(daemon: DockerDaemon, e: unknown): string {
  const err = e as { code?: unknown; message?: string };
  const code = typeof err.code === 'string' ? err.code : '';
  const message = err.message ?? String(e);
  const tls = daemon.setting.tls;
  if (daemon.setting.host.startsWith('ssh:') && /host denied|verification failed/i.test(message)) {
    return `the daemon host's SSH key is not one ${daemon.setting.ssh?.knownHosts ?? 'known_hosts'} lists for it (${message}): add it after checking its fingerprint (\`ssh-keyscan\`, or \`ssh\` to the host once), or point docker.ssh.knownHosts at the file that lists it`;
  }
  if (daemon.setting.host.startsWith('ssh:') && /authentication methods failed/i.test(message)) {
    return `the daemon host refused the SSH key (${message}): check ${daemon.setting.ssh?.key ?? 'the keys in the agent at SSH_AUTH_SOCK'}`;
  }
  if (tls !== undefined && UNTRUSTED.has(code)) {
    return `the daemon's TLS certificate is not trusted (${code}: ${message}): it must be signed by the CA in ${tls.ca} and name the host it is reached by; check DOCKER_CERT_PATH (or docker.tls.ca in the host policy)`;
  }
  if (tls !== undefined && (/alert|certificate required|handshake|socket hang up/i.test(message) || code === 'ECONNRESET' || code === 'EPIPE')) {
    return `the daemon refused the TLS handshake (${code === '' ? message : `${code}: ${message}`}): it accepts only client certificates signed by its own CA; check ${tls.cert} and ${tls.key}`;
  }
  return message;
}
