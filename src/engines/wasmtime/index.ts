/**
 * The wasmtime CLI engine: the same airlock:plugin components as the worker
 * engine, run by `wasmtime run --invoke` with flags from the grants.
 */
export { KILL_GRACE_MS, MAX_INVOKE_BYTES, WasmtimeEngine, type WasmtimeEngineOptions, WasmtimePlugin, type WasmtimePluginInfo } from './engine.ts';
export { checkComponent, COMPILE_ARGS, cwasmPath, precompile, unlinkableImports } from './compile.ts';
export { type WasmtimeCommand, wasmtimeCommand, type WasmtimeFlags, wasmtimeImportsCommand, wasmtimeRefusals } from './flags.ts';
export { cachedWasmtimePath, findWasmtime, probeWasmtime, WASMTIME_INSTALL_HINT, WASMTIME_VERSION, type WasmtimeProbe, wasmtimeVersion } from './locate.ts';
export { classify, type CapturedText, type Finished, type Outcome } from './outcome.ts';
export { parseToolResult, splitToolResult, type ToolResult, waveString } from './wave.ts';
