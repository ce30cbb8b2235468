/**
 * What a blank wasm worker loads before a plugin adopts it
 * (src/engines/wasm/standby.ts): the WASI interfaces most components import
 * (wasi-libc's and Rust std's: cli, filesystem, io, clocks) and the
 * capabilities' worker parts that provide them. Loaded then, they are off
 * every adoption's path (~4 ms of a cached component's cold start, issue
 * 21) for well under a MiB per worker. Not the network part (node:http and
 * the shim's sockets: tens of ms and MiBs), nor random (node:crypto): only
 * components that import them pay for them, at adoption.
 *
 * Plain data, no capability imported: a standby must start without the
 * host-side capability entry (./index.ts). test/capabilities/warm.test.ts
 * checks WARM_PARTS against ./index.ts wasiPlan(COMMON_INTERFACES).
 */
import { siblingModule } from './module-url.ts';

/** The unversioned interfaces a C (wasi-libc) or Rust component imports, bar random. */
export const COMMON_INTERFACES: readonly string[] = [
  'wasi:cli/environment',
  'wasi:cli/exit',
  'wasi:cli/stdin',
  'wasi:cli/stdout',
  'wasi:cli/stderr',
  'wasi:cli/terminal-input',
  'wasi:cli/terminal-output',
  'wasi:cli/terminal-stdin',
  'wasi:cli/terminal-stdout',
  'wasi:cli/terminal-stderr',
  'wasi:clocks/monotonic-clock',
  'wasi:clocks/wall-clock',
  'wasi:filesystem/types',
  'wasi:filesystem/preopens',
  'wasi:io/error',
  'wasi:io/poll',
  'wasi:io/streams',
];

/** The worker parts for COMMON_INTERFACES, in the capabilities' order (module URLs; each exports `wasiPart`). */
export const WARM_PARTS: readonly string[] = ['./filesystem/wasi', './env/wasi', './stdio/wasi'].map((m) => siblingModule(import.meta.url, m));
