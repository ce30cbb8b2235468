/** Shapes the wasm engine shares between its host side and its worker. */

/**
 * What the engine needs from a transpiled component (produced by
 * ./transpile.ts on the host): the jco instantiation-mode glue, on disk, and
 * the core modules' bytes by the name the glue asks for.
 */
export interface TranspiledComponent {
  /** `file:` URL (or absolute path) of the ESM glue exporting `instantiate`. */
  glue: string;
  /**
   * The glue's text as verified by the transpile step, when it read it; the
   * engine reads `glue` otherwise. Workers import this text, never the file
   * again, so a cache entry deleted or damaged while the plugin runs cannot
   * break the workers that replace killed ones.
   */
  glueSource?: string;
  /** Core module bytes by name (e.g. `plugin.core.wasm`). */
  modules: Record<string, Uint8Array>;
  /**
   * The unversioned WASI interfaces the component imports (`wasi:cli/stdout`):
   * workers load only what these need. Absent: not known, so everything.
   */
  imports?: string[];
}

export type TranspileFn = (componentPath: string) => Promise<TranspiledComponent>;

/** jco instantiation-mode entry point. */
import type { WasmInstance, WasmModule } from '../../wasm-api.ts';

export type InstantiateFn = (
  getCoreModule: (name: string) => WasmModule,
  imports: Record<string, unknown>,
  instantiateCore?: (module: WasmModule, imports: object) => WasmInstance | Promise<WasmInstance>,
) => unknown;
