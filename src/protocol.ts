/**
 * Every message that crosses a thread or process boundary, as discriminated
 * unions: host <-> wasm worker, host <-> container host program. Nothing typed
 * `any` crosses a boundary; each side validates what it receives.
 */
import type { SerializedError } from './errors.ts';

// ---- host <-> wasm worker (src/engines/wasm) ----

// ---- host <-> container (runtimes/*, src/engines/docker): JSON lines over stdio ----

export type { SerializedError };
