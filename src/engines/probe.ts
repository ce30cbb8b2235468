/**
 * Engine availability for `airlock doctor` and the selector: the worker
 * engine is always there (it is Node itself); wasmtime when its binary is
 * found and answers `--version`; Docker when its daemon answers a ping
 * within a short timeout.
 */
import Docker from 'dockerode';
import type { EngineName } from './types.ts';
import { probeWasmtime } from './wasmtime/locate.ts';

export interface EngineProbe {
  engine: EngineName;
  available: boolean;
  version?: string;
  /** The binary or daemon address that was found. */
  path?: string;
  /** Why it is unavailable. */
  reason?: string;
  /** How to install it when unavailable. */
  installHint?: string;
}

export const DOCKER_INSTALL_HINT =
  'install Docker and start its daemon (Debian: `apt-get install docker.io && systemctl start docker`), make its socket reachable by this user, or set DOCKER_HOST';

export function probeWasm(): EngineProbe {
  return { engine: 'wasm', available: true, version: `node ${process.versions.node}`, path: process.execPath };
}

export async function probeWasmtimeEngine(env: NodeJS.ProcessEnv = process.env): Promise<EngineProbe> {
  const p = await probeWasmtime(env);
  return {
    engine: 'wasmtime',
    available: p.available,
    ...(p.version === undefined ? {} : { version: p.version }),
    ...(p.path === undefined ? {} : { path: p.path }),
    ...(p.reason === undefined ? {} : { reason: p.reason }),
    ...(p.available ? {} : { installHint: p.installHint }),
  };
}

export interface DockerProbeOptions {
  /** Give up after this long (default 2000 ms). */
  timeoutMs?: number;
  /** A client to use (default: dockerode's default, honouring DOCKER_HOST). */
  docker?: Docker;
}

export async function probeDocker(options: DockerProbeOptions = {}): Promise<EngineProbe> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const docker = options.docker ?? new Docker({ timeout: timeoutMs });
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
    return { engine: 'docker', available: false, path: where, reason: `the Docker daemon at ${where} does not answer: ${(e as Error).message}`, installHint: DOCKER_INSTALL_HINT };
  } finally {
    clearTimeout(timer);
  }
}

/** Every engine, probed in parallel. */
export async function probeEngines(options: { docker?: DockerProbeOptions; env?: NodeJS.ProcessEnv } = {}): Promise<Record<EngineName, EngineProbe>> {
  const [wasmtime, docker] = await Promise.all([probeWasmtimeEngine(options.env), probeDocker(options.docker)]);
  return { wasm: probeWasm(), wasmtime, docker };
}

/**
 * `airlock doctor`'s lines, one per engine:
 *   wasm      available  node 24.21.0  /opt/node/bin/node
 *   wasmtime  missing    no wasmtime binary: …  (fix: install the wasmtime CLI: …)
 */
export function formatProbes(probes: Record<EngineName, EngineProbe>): string[] {
  return Object.values(probes).map((p) => {
    const head = `${p.engine.padEnd(9)} ${p.available ? 'available' : 'missing  '}`;
    if (p.available) return `${head}  ${p.version ?? 'unknown version'}${p.path === undefined ? '' : `  ${p.path}`}`;
    return `${head}  ${p.reason ?? 'unavailable'}${p.installHint === undefined ? '' : `  (fix: ${p.installHint})`}`;
  });
}
