/**
 * Turning one finished `wasmtime run --invoke` process into a result or an
 * AirlockError. Pure, so every mapping is unit-tested without wasmtime.
 *
 * What wasmtime 48 does, measured: a returned value is printed as WAVE on
 * stdout and the exit status is 0; a trap prints `Error: failed to run main
 * module …` and `wasm trap: …` on stderr and exits 134; `-W timeout`
 * expiring is the trap `wasm trap: interrupt`; with `trap-on-grow-failure`
 * a refused memory grow prints `forcing trap when growing memory` and exits 1;
 * a host function failing the guest (e.g. `-S max-random-size` refusing a
 * request: `requested len N exceeds limit M`) prints the same `error while
 * executing at wasm backtrace` cause chain and exits 1; a deadline that
 * expires while the guest waits in a host call (a blocking FIFO open) prints
 * `Error: timed out after deadline has elapsed … wasm trap: interrupt` and
 * exits 134.
 */
import { AirlockError } from '../../errors.ts';
import { pluginError, trapSummary } from '../plugin-error.ts';
import { splitToolResult } from './wave.ts';

export interface Finished {
  tool: string;
  /** Exit status, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Guest stdout followed by the printed result (head and tail, see CapturedText). */
  stdout: CapturedText;
  stderr: CapturedText;
  /** Set when the engine itself killed the process, and why. */
  killed?: 'timeout' | 'aborted' | 'output-limit';
  timeoutMs: number;
  outputBytes: number;
  memoryBytes: number;
}

export interface CapturedText {
  text: string;
  /** True when the middle was dropped (text = head + tail). */
  cut: boolean;
}

export interface Outcome {
  output?: string;
  error?: AirlockError;
  /** The guest's own stdout and stderr (the printed result and wasmtime's diagnostics removed). */
  guestStdout: string;
  guestStderr: string;
}

const DIAGNOSTIC = /(^|\n)Error: (?:failed to run main module|timed out after deadline has elapsed)[^\n]*\n/g;

/**
 * Splits stderr into the guest's text and wasmtime's trailing diagnostic (the
 * last `Error: failed to run main module` or `Error: timed out after deadline
 * has elapsed`). wasmtime prints it after the guest stopped, so only a guest
 * that ends its own process right after printing a fake one can mislabel its
 * own ending (to another error code, never to a result).
 */
export function splitDiagnostic(stderr: string): { guest: string; diagnostic: string } {
  let at = -1;
  for (const m of stderr.matchAll(DIAGNOSTIC)) at = m.index + (m[1] === '\n' ? 1 : 0);
  if (at < 0) return { guest: stderr, diagnostic: '' };
  return { guest: stderr.slice(0, at), diagnostic: stderr.slice(at) };
}

/** The innermost cause of a wasmtime diagnostic, e.g. `wasm trap: interrupt`. */
export function diagnosticCause(diagnostic: string): string {
  const lines = diagnostic
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('note:') && !/^\d+:\s+0x[0-9a-f]+ - /.test(l) && l !== 'Caused by:' && !l.startsWith('Stack backtrace'));
  const causes = lines.filter((l) => /^\d+: /.test(l)).map((l) => l.replace(/^\d+: /, ''));
  return causes.at(-1) ?? lines.at(-1) ?? '';
}

export function classify(f: Finished): Outcome {
  const { guest: guestStderr, diagnostic } = splitDiagnostic(f.stderr.text);
  const cause = diagnosticCause(diagnostic);
  const fail = (error: AirlockError, guestStdout = f.stdout.text): Outcome => ({ error, guestStdout, guestStderr });

  if (f.killed === 'aborted') return fail(new AirlockError('aborted', `call to tool ${f.tool} was aborted; its wasmtime process was killed`));
  if (f.killed === 'timeout' || /wasm trap: interrupt|^Error: timed out after deadline has elapsed/.test(diagnostic)) {
    return fail(
      new AirlockError('timeout', `tool ${f.tool} ran past its ${f.timeoutMs} ms timeout (resources.timeout)`, { details: { timeoutMs: f.timeoutMs } }),
    );
  }
  if (f.killed === 'output-limit') {
    return fail(
      new AirlockError('output-limit', `tool ${f.tool} wrote more than resources.output allows (${f.outputBytes} bytes); its process was killed`, {
        details: { limitBytes: f.outputBytes },
      }),
    );
  }
  if (/forcing trap when growing memory|exceeds memory limits|memory minimum size of \d+ pages exceeds/.test(diagnostic)) {
    return fail(
      new AirlockError('memory-limit', `tool ${f.tool} ran out of memory: ${cause} (resources.memory allows ${f.memoryBytes} bytes)`, {
        details: { limitBytes: f.memoryBytes, trap: cause },
      }),
    );
  }
  // A host call that failed the guest (a refused random request, a resource limit) is a trap like the worker engine's.
  if (/wasm trap:|error while executing at wasm backtrace/.test(diagnostic)) {
    const said = trapSummary(guestStderr);
    return fail(new AirlockError('trap', `tool ${f.tool} trapped: ${cause}${said === undefined ? '' : `; ${said}`}`, { details: { trap: cause } }));
  }
  if (f.code === 0) {
    const split = splitToolResult(f.stdout.text);
    if (split === undefined) {
      if (f.stdout.cut) {
        return fail(
          new AirlockError('output-limit', `tool ${f.tool} printed more than resources.output allows (${f.outputBytes} bytes)`, {
            details: { limitBytes: f.outputBytes },
          }),
        );
      }
      // Exit 0 without a printed result: the guest called exit(0) in the middle of the call.
      return fail(new AirlockError('crash', `tool ${f.tool} ended its process (exit status 0) without returning a result`));
    }
    const guestStdout = split.guest;
    const r = split.result;
    if (!r.ok) {
      return fail(pluginError(`tool ${f.tool}`, r.code, r.message), guestStdout);
    }
    const size = Buffer.byteLength(r.value, 'utf8');
    if (size > f.outputBytes) {
      return fail(
        new AirlockError('output-limit', `tool ${f.tool} returned ${size} bytes, over resources.output (${f.outputBytes} bytes)`, {
          details: { outputBytes: size, limitBytes: f.outputBytes },
        }),
        guestStdout,
      );
    }
    return { output: r.value, guestStdout, guestStderr };
  }
  if (/matching implementation was not found in the linker/.test(diagnostic)) {
    return fail(
      new AirlockError('crash', `tool ${f.tool}: the component imports something its grants do not provide under wasmtime: ${cause}`, {
        details: { diagnostic: cause },
      }),
    );
  }
  if (f.signal !== null)
    return fail(new AirlockError('crash', `the wasmtime process for tool ${f.tool} died of ${f.signal}`, { details: { signal: f.signal } }));
  const why = cause === '' ? `exit status ${f.code}` : cause;
  return fail(
    new AirlockError('crash', `the wasmtime process for tool ${f.tool} ended without a result: ${why}`, { details: { exitCode: f.code, diagnostic: cause } }),
  );
}
