/**
 * Every engine, in the selector's order of preference when nothing is
 * configured (the first that can run a plugin runs it). Adding an engine is
 * its folder (src/engines/<name>/, exporting a definition: ./engine.ts) and
 * one line here.
 */
import { docker } from './docker/definition.ts';
import type { EngineSettings } from '../grants/types.ts';
import type { EngineDefinition, EngineProbe, ProbeOptions } from './engine.ts';
import { kubernetes } from './kubernetes/definition.ts';
import { wasm } from './wasm/definition.ts';
import { wasmtime } from './wasmtime/definition.ts';

export const ENGINES = [wasm, wasmtime, docker, kubernetes] as const;

export type EngineName = (typeof ENGINES)[number]['name'];
export const ENGINE_NAMES: readonly EngineName[] = ENGINES.map((e) => e.name);

export function isEngineName(name: string): name is EngineName {
  return (ENGINE_NAMES as readonly string[]).includes(name);
}

/** The engine called `name`; undefined for a name no engine has. */
export function engineDefinition(name: string): EngineDefinition | undefined {
  return ENGINES.find((e) => e.name === name);
}

/** Every engine, probed in parallel, by name. */
export async function probeEngines(options: ProbeOptions = {}): Promise<Record<EngineName, EngineProbe>> {
  const probes = await Promise.all(ENGINES.map(async (e) => [e.name, await e.probe(options)] as const));
  return Object.fromEntries(probes) as Record<EngineName, EngineProbe>;
}

/** `probes`, with each engine whose availability depends on the host policy (a daemon or cluster it names) probed for it. */
export async function probesFor(settings: EngineSettings, probes: Record<EngineName, EngineProbe>): Promise<Record<EngineName, EngineProbe>> {
  const out = { ...probes };
  await Promise.all(
    ENGINES.map(async (e) => {
      const own = e.probeFor?.(settings);
      if (own !== undefined) out[e.name] = await own;
    }),
  );
  return out;
}
