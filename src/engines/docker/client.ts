/**
 * The dockerode client of a daemon (./daemon.ts decides which): one per daemon, built from the setting alone.
 * Apart from daemon.ts because it loads dockerode (and ssh2), which a process running no Docker plugin never needs.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { DockerDaemonSetting } from '../../grants/types.ts';
import { configError, LOCAL_SOCKET, type DockerDaemon } from './daemon.ts';
import { hostVerifier, knownHostName } from './known-hosts.ts';
import { sshAgent } from './ssh-agent.ts';

function readPem(path: string, what: string, setting: DockerDaemonSetting): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw configError(
      `the ${what} for the Docker daemon at ${setting.host} cannot be read from ${path}: ${(e as Error).message}; put it there (DOCKER_CERT_PATH holds ca.pem, cert.pem and key.pem) or name it in the host policy's docker.tls (docker.ssh.key for a key)`,
      e,
    );
  }
}

const clients = new Map<string, Docker>();
/** One SSH transport per ssh:// daemon, shared by its clients (probes included). */
const sshAgents = new Map<string, ReturnType<typeof sshAgent>>();

/** The dockerode client for a daemon; `timeoutMs` bounds each request (probes), else one shared client per daemon. */
export function dockerClient(daemon: DockerDaemon, options: { timeoutMs?: number } = {}): Docker {
  if (options.timeoutMs === undefined) {
    let client = clients.get(daemon.key);
    if (client === undefined) clients.set(daemon.key, (client = new Docker(modemOptions(daemon))));
    return client;
  }
  return new Docker({ ...modemOptions(daemon), timeout: options.timeoutMs });
}

/**
 * Every option the modem reads, set here: docker-modem fills the ones left out from DOCKER_HOST and
 * DOCKER_CERT_PATH itself, which would mix the environment's daemon into the policy's.
 */
function modemOptions(daemon: DockerDaemon): Docker.DockerOptions {
  const s = daemon.setting;
  const url = new URL(s.host);
  const none = { host: undefined, port: undefined, ca: undefined, cert: undefined, key: undefined, protocol: undefined, socketPath: undefined };
  if (!daemon.remote) return { ...none, socketPath: url.pathname || LOCAL_SOCKET };
  if (url.protocol === 'ssh:') {
    const port = url.port === '' ? 22 : Number(url.port);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const key = s.ssh?.key;
    let agent = sshAgents.get(daemon.key);
    if (agent === undefined) {
      agent = sshAgent({
        host,
        port,
        username: decodeURIComponent(url.username),
        hostVerifier: hostVerifier(s.ssh?.knownHosts ?? join(homedir(), '.ssh', 'known_hosts'), knownHostName(host, port)),
        ...(key === undefined ? { agent: process.env.SSH_AUTH_SOCK ?? '' } : { privateKey: readPem(key, 'SSH private key', s) }),
        readyTimeout: 20_000,
      });
      sshAgents.set(daemon.key, agent);
    }
    // Plain HTTP, each connection a dial-stdio channel of the shared SSH connection (./ssh-agent.ts).
    return { ...none, protocol: 'http', host, port, agent } as Docker.DockerOptions;
  }
  if (s.tls === undefined) return { ...none, protocol: 'http', host: url.hostname, port: url.port };
  return {
    ...none,
    protocol: 'https',
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port,
    ca: readPem(s.tls.ca, 'CA certificate', s),
    cert: readPem(s.tls.cert, 'client certificate', s),
    key: readPem(s.tls.key, 'client key', s),
  };
}
