/**
 * Engine availability for `airlock doctor` and the selector: each engine
 * probes itself (its definition.ts); this module runs them all and formats
 * the result.
 */
import type { EngineProbe } from './engine.ts';

export type { EngineProbe } from './engine.ts';
export { DOCKER_INSTALL_HINT, probeDocker, type DockerProbeOptions } from './docker/definition.ts';
export { probeWasm } from './wasm/definition.ts';
export { probeWasmtimeEngine } from './wasmtime/definition.ts';
export { probeEngines, probesFor } from './registry.ts';

/**
 * `airlock doctor`'s lines, one per engine:
 *   wasm      available  node 24.21.0  /opt/node/bin/node
 *   wasmtime  missing    no wasmtime binary: …  (fix: install the wasmtime CLI: …)
 */
export function formatProbes(probes: Readonly<Record<string, EngineProbe>>): string[] {
  return Object.values(probes).map((p) => {
    const head = `${p.engine.padEnd(9)} ${p.available ? 'available' : 'missing  '}`;
    if (p.available) return `${head}  ${p.version ?? 'unknown version'}${p.path === undefined ? '' : `  ${p.path}`}`;
    return `${head}  ${p.reason ?? 'unavailable'}${p.installHint === undefined ? '' : `  (fix: ${p.installHint})`}`;
  });
}
