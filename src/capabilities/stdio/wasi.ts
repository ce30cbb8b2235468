/**
 * stdout/stderr go to the running call's log capture (bounded by
 * grants.resources.logBytes, enforced by LogCapture), never to the host's
 * stdio; stdin is empty; the guest is told it has no terminal.
 */
import type { Grants } from '../../grants/types.ts';
import { createEmptyInputStream, createSinkStreamClass } from '../shim.ts';
import { LogCapture } from './capture.ts';
import type { CallState, WasiContext, WasiImports, WasiPart } from '../types.ts';

export function stdioWasi(_grants: Grants, ctx: WasiContext): WasiImports {
  const Sink = createSinkStreamClass(ctx.base);
  const stdout = new Sink((bytes) => ctx.call.logs.write('stdout', bytes));
  const stderr = new Sink((bytes) => ctx.call.logs.write('stderr', bytes));
  const stdin = createEmptyInputStream(ctx.base);
  return {
    'wasi:cli/stdout': { getStdout: () => stdout },
    'wasi:cli/stderr': { getStderr: () => stderr },
    'wasi:cli/stdin': { getStdin: () => stdin },
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
  };
}

/** Per call: fresh logs, capped at resources.logBytes. */
function stdioBeginCall(grants: Grants, call: CallState): void {
  call.logs = new LogCapture(grants.resources.logBytes);
}

export const wasiPart: WasiPart = { wasi: stdioWasi, beginCall: stdioBeginCall };
