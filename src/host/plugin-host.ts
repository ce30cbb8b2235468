/**
 * What a PluginHost needs from the engines (the provider's side of the
 * boundary). These types move to the engines with the provider; until then
 * they live here, in a file that imports nothing from src/host, so the
 * provider can name them without an import cycle. PluginHost itself is in host.ts.
 */
import type { EngineName, EnginePlugin } from '../engines/types.ts';
import type { Grants } from '../grants/index.ts';
import type { LoadedManifest } from '../manifest/index.ts';

export type EnginePreference = 'auto' | EngineName;

/** What the host needs from the engines: open a plugin under its grants on the engine the selector picks. */
export interface EngineProvider {
  open(plugin: LoadedManifest, grants: Grants, preference: EnginePreference): Promise<OpenedPlugin>;
  close(): Promise<void>;
}

export interface OpenedPlugin {
  engine: EngineName;
  /** Why this engine (the selector's words). */
  reason: string;
  instance: EnginePlugin;
}
