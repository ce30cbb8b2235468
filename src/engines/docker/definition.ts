/**
 * The Docker engine as the registry sees it: node and python plugins from
 * source, available when the daemon answers a ping. Its refusals are the
 * grants a container cannot express exactly (./options.ts); the
 * implementation (dockerode, image builds) loads on the first Docker plugin
 * (dockerode itself on the first probe).
 */
import type Docker from 'dockerode';
import type { AirlockError } from '../../errors.ts';
import type { EngineSettings, Grants } from '../../grants/types.ts';
import { defineEngine, type EngineProbe, probeCache } from '../engine.ts';
import { daemonFailure, resolveDaemon, type DockerDaemon, type DockerDaemonSetting } from './daemon.ts';
import { lazyModule } from '../../lazy.ts';

/** The run spec (every capability's Docker part), loaded by the first refusal asked for, not by the registry. */
const options = lazyModule<typeof import('./options.ts')>(import.meta.url, './options');

export const DOCKER_INSTALL_HINT =
  'install Docker and start its daemon (Debian: `apt-get install docker.io && systemctl start docker`), make its socket reachable by this user, or set DOCKER_HOST';

export interface DockerProbeOptions {
  /** Give up after this long (default 2000 ms; 10 s for a remote daemon). */
  timeoutMs?: number;
  /** A client to use (default: the daemon of ./daemon.ts, from `env`). */
  docker?: Docker;
  /** Where DOCKER_HOST and friends are read (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

const REMOTE_PROBE_TIMEOUT_MS = 10_000;

export async function probeDocker(options: DockerProbeOptions = {}, setting?: DockerDaemonSetting): Promise<EngineProbe> {
  let daemon: DockerDaemon | undefined;
  let docker = options.docker;
  let timeoutMs = options.timeoutMs ?? 2000;
  try {
    // Loaded here, not at the top: it loads dockerode, which a process running no Docker plugin never needs.
    const { dockerClient } = await import('./client.ts');
    daemon = resolveDaemon(setting, options.env);
    // A remote daemon pays a TLS or SSH handshake per connection, over a real network.
    if (options.timeoutMs === undefined && daemon.remote) timeoutMs = REMOTE_PROBE_TIMEOUT_MS;
    docker ??= dockerClient(daemon, { timeoutMs });
  } catch (e) {
    return { engine: 'docker', available: false, reason: (e as AirlockError).message, installHint: DOCKER_INSTALL_HINT };
  }
  const where = daemon.where;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([docker.ping(), deadline]);
    const v = (await Promise.race([docker.version(), deadline])) as { Version?: string; ApiVersion?: string };
    return { engine: 'docker', available: true, path: where, ...(v.Version === undefined ? {} : { version: v.Version }) };
  } catch (e) {
    return {
      engine: 'docker',
      available: false,
      path: where,
      reason: `the Docker daemon at ${where} does not answer: ${daemonFailure(daemon, e)}`,
      installHint: DOCKER_INSTALL_HINT,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Probes of the daemons host policies name, one per daemon (see probeCache). */
const probePolicyDaemon = probeCache((daemon: DockerDaemonSetting) => probeDocker({}, daemon));

/** The probe of the daemon a host policy names for these grants; undefined when they name none (probe() answers). */
export function probeDockerFor(grants: EngineSettings): Promise<EngineProbe> | undefined {
  return grants.docker === undefined ? undefined : probePolicyDaemon(grants.docker);
}

/** What the engine cannot run as granted, on the daemon these grants (or the environment) name. */
export function dockerRefusals(grants: Grants): string[] {
  let daemon: DockerDaemon;
  try {
    daemon = resolveDaemon(grants.docker);
  } catch (e) {
    return [(e as AirlockError).message];
  }
  return options().dockerRunSpec(grants, undefined, daemon).refusals;
}

export const docker = defineEngine({
  name: 'docker',
  label: 'Docker',
  strength: 'runs node and python plugins from source',
  artefact: 'source',
  runtimes: ['node', 'python'],
  builtin: false,
  probe: (options = {}) =>
    probeDocker({ ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }), ...(options.env === undefined ? {} : { env: options.env }) }),
  probeFor: probeDockerFor,
  refusals: dockerRefusals,
  create: async (options = {}) => {
    const { DockerEngine } = await import('./index.ts');
    const onEvent = options.onEvent;
    return new DockerEngine(onEvent === undefined ? {} : { onEgress: (plugin, decision) => onEvent({ type: 'egress', plugin, decision }) });
  },
});
