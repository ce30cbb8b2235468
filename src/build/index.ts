/** Plugin builds: sources or modules -> WASI 0.2 components (see ./wasm.ts). */
export { buildPlugin, checkComponent, type BuildOptions, type BuildResult } from './wasm.ts';
