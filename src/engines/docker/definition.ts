/**
 * The Docker engine as the registry sees it: node and python plugins from
 * source, available when the daemon answers a ping. Its refusals are the
 * grants a container cannot express exactly (./options.ts); the
 * implementation (dockerode, image builds) loads on the first Docker plugin
 * (dockerode itself on the first probe).
 */
import type Docker from 'dockerode';
import { defineEngine, type EngineProbe } from '../engine.ts';
import { dockerRunSpec } from './options.ts';

export const DOCKER_INSTALL_HINT =
  'install Docker and start its daemon (Debian: `apt-get install docker.io && systemctl start docker`), make its socket reachable by this user, or set DOCKER_HOST';

export interface DockerProbeOptions {
  /** Give up after this long (default 2000 ms). */
  timeoutMs?: number;
  /** A client to use (default: dockerode's default, honouring DOCKER_HOST). */
  docker?: Docker;
}

export async function probeDocker(options: DockerProbeOptions = {}): Promise<EngineProbe> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const docker = options.docker ?? new (await import('dockerode')).default({ timeout: timeoutMs });
  const where = process.env.DOCKER_HOST ?? '/var/run/docker.sock';
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
      reason: `the Docker daemon at ${where} does not answer: ${(e as Error).message}`,
      installHint: DOCKER_INSTALL_HINT,
    };
  } finally {
    clearTimeout(timer);
  }
}

export const docker = defineEngine({
  name: 'docker',
  label: 'Docker',
  strength: 'runs node and python plugins from source',
  artefact: 'source',
  runtimes: ['node', 'python'],
  builtin: false,
  probe: (options = {}) => probeDocker(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  refusals: (grants) => dockerRunSpec(grants).refusals,
  create: async (options = {}) => {
    const { DockerEngine } = await import('./index.ts');
    const onEvent = options.onEvent;
    return new DockerEngine(onEvent === undefined ? {} : { onEgress: (plugin, decision) => onEvent({ type: 'egress', plugin, decision }) });
  },
});
