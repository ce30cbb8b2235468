/** Plugin builds: sources or modules -> WASI 0.2 components (see ./wasm.ts). */
export { buildPlugin, checkComponent, WIT_PATH, TOOLS_EXPORT, type BuildOptions, type BuildResult } from './wasm.ts';
