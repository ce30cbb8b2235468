/**
 * Documented differences between engines. A case whose result on an engine
 * differs from ./cases.ts fails, unless it is listed here: then the engine
 * must do exactly what `instead` says (so a limitation that goes away, or
 * changes, fails too and the entry is updated). Each entry gives its reason;
 * the README's engine limitations repeat them.
 */
import type { EngineName } from '../../src/engines/types.ts';
import type { ErrorCode } from '../../src/errors.ts';
import type { Expect } from './cases.ts';

export interface Limitation {
  engine: EngineName;
  /** Case names (exact) this applies to. */
  cases: string[];
  instead:
    | { /** The engine refuses to load the plugin with this code (the selector then falls back). */ load: ErrorCode; message: RegExp }
    | { /** Step index -> what this engine returns there instead. */ steps: Record<number, Expect> };
  reason: string;
}

export const LIMITATIONS: Limitation[] = [
  {
    engine: 'wasmtime',
    cases: [
      'fs-escape: a read-only grant is readable at its mount path',
      'fs-escape: a read-only grant refuses every kind of write and the host files stay as they were',
    ],
    instead: { load: 'engine-unavailable', message: /read-only.*wasmtime#9608/ },
    reason:
      "the wasmtime CLI's --dir always grants read-write (no read-only preopen, https://github.com/bytecodealliance/wasmtime/issues/9608); the engine refuses rather than widen the grant, and the selector runs such plugins on the worker engine",
  },
  {
    engine: 'wasmtime',
    cases: [
      'net: with no network granted, TCP and HTTP are refused',
      'net: an allowlisted HTTP request goes out; another port or host name is refused before anything is sent',
      'net: with an HTTP allowlist, other hosts and raw sockets are still refused',
    ],
    instead: { load: 'engine-unavailable', message: /wasi:http\/outgoing-handler|allowlist/ },
    reason:
      'the wasmtime CLI links wasi:http only wholesale (-S http, no allowlist and no way to deny requests), so a component importing wasi:http/outgoing-handler, or any network grant, is refused; the worker engine runs it with its own allowlist',
  },
  {
    engine: 'wasmtime',
    cases: ['state: a pooled instance keeps its state between calls'],
    instead: { steps: { 1: { output: '1' } } },
    reason: 'every wasmtime call is a fresh process, so isolation is always per-call: nothing, including state a plugin means to keep, survives a call',
  },
  {
    engine: 'wasmtime',
    cases: ['fs-escape: a symlink inside the grant is not followed either'],
    instead: { steps: { 0: { output: '"ok:inner"' } } },
    reason:
      "wasmtime (cap-std) follows a symlink whose target stays inside the preopen, and refuses only escapes; the worker engine follows no symlink at all, because preview2-shim resolves paths and then opens by path (a check-then-use race an escape could win). Both contain the guest in its grant",
  },
  {
    engine: 'wasmtime',
    cases: ['fs-escape: a symlink the guest creates cannot lead out of the grant'],
    instead: { steps: { 0: { output: '"ok:done"' } } },
    reason:
      'wasmtime lets a guest create a symlink inside a writable preopen (following it out of the preopen still fails, the next step); the worker engine refuses to create symlinks at all, for the same race as above',
  },
  {
    engine: 'wasmtime',
    cases: ['fs-escape: a FIFO or a socket is refused before any blocking open'],
    instead: { steps: { 0: { error: 'timeout' }, 1: { error: 'timeout' } } },
    reason:
      'wasmtime opens a FIFO inside a writable preopen, and the open blocks until resources.timeout ends the call (timeout; the process is gone, the host is unaffected); the worker engine refuses FIFOs, sockets and devices before opening, because a blocking open in a worker thread cannot be interrupted',
  },
  {
    engine: 'wasmtime',
    cases: ['echo-c: a 200 KB input and result pass through'],
    instead: { steps: { 0: { error: 'invalid-input' } } },
    reason:
      'the wasmtime CLI takes the call (tool name and input) as one --invoke argument, and Linux caps one argument at 128 KiB (MAX_ARG_STRLEN); larger inputs are refused as invalid-input before anything runs. The worker engine passes input through shared memory',
  },
];

export function limitationFor(engine: EngineName, caseName: string): Limitation | undefined {
  return LIMITATIONS.find((l) => l.engine === engine && l.cases.includes(caseName));
}
