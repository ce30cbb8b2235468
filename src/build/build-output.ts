/**
 * A build tool's output made readable for a build-failed message: terminal
 * escapes, Rust backtraces and repeated lines removed, and the plugin's own
 * position found in what componentize-js (SpiderMonkey) and componentize-py
 * (a Python traceback) print, as a Problem with file, line and column. The
 * original stays in the error's details (`raw`) for `--json`.
 *
 * Pure functions over text the sandbox already bounded (src/build/limits.ts
 * outputKiB); every regex is linear.
 */
import { join } from 'node:path';
import type { Problem } from '../errors.ts';

// CSI … final byte, OSC … BEL/ST, two-character escapes; then C0/C1 controls other than newline and tab.
const ESCAPES = /\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]*[0-~]?)|\x9b[0-?]*[ -/]*[@-~]?/g;
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** A Rust panic's backtrace: `stack backtrace:`, then numbered frames and their `at` lines. */
const BACKTRACE_START = /^\s*(?:stack|Stack) backtrace:\s*$/;
const BACKTRACE_LINE = /^\s*(?:\d+:\s+(?:0x[0-9a-f]+ - )?\S.*|at \S+:\d+(?::\d+)?)$/;
/** Rust's advice to set RUST_BACKTRACE (the build sets it to 0 on purpose). */
const BACKTRACE_NOTE = /^\s*note: (?:run with `RUST_BACKTRACE|Some details are omitted)/;

/** The text without escapes, Rust backtraces and repeats: a run of equal lines is kept once, a long line seen before is dropped. */
export function cleanToolOutput(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').replace(ESCAPES, '').replace(CONTROLS, '').split('\n');
  const out: string[] = [];
  const seen = new Set<string>();
  let inBacktrace = false;
  for (const line of lines) {
    const trimmed = line.trim();
    if (BACKTRACE_START.test(line)) {
      inBacktrace = true;
      continue;
    }
    if (inBacktrace && BACKTRACE_LINE.test(line)) continue;
    inBacktrace = false;
    if (BACKTRACE_NOTE.test(line)) continue;
    if (out.length > 0 && out.at(-1) === line) continue;
    if (trimmed.length >= 40) {
      if (seen.has(trimmed)) continue;
      seen.add(trimmed);
    }
    out.push(line);
  }
  return out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export interface Explained {
  /** One line for the error message. */
  message: string;
  /** The plugin position, when the output names one. */
  problem?: Problem;
  /** How to fix it, when the output says what went wrong; undefined when nothing here explains it. */
  hint?: string;
}

const JS_SYNTAX = 'fix the syntax error at that position';
const JS_TOP_LEVEL = "the plugin's top-level code ran at build time (componentize-js pre-initializes it) and threw; fix it, or move the work into `call`";
const PY_TOP_LEVEL = "the plugin's top-level code ran at build time (componentize-py imports it) and raised; fix it, or move the work into `call`";

/**
 * componentize-js's failure: SpiderMonkey prefixes each line of a top-level error with `file:line:column `
 * (`plugin.js:2:28 SyntaxError: missing ) after argument list:`); the file is relative to the plugin folder
 * `dir`; one in the guest wrapper (`wrapper`) is about the entry `entry` as a whole.
 */
export function explainComponentizeJs(dir: string, entry: string, wrapper: string, output: string): Explained {
  const text = cleanToolOutput(output);
  const m = /^([^\s:/][^:\n]*):(\d+):(\d+) ([^\n]*?):?$/m.exec(text);
  if (m === null) {
    const hint = exportHint(text);
    const message = text
      .replace(/^Failed to initialize component \(wizer \([^)]*\)\):\n?/m, '')
      .replace(/^Exception while evaluating top-level script\n?/m, '');
    return { message: message.trim(), ...(hint === undefined ? {} : { hint }) };
  }
  const [, file, line, column, what] = m as unknown as [string, string, string, string, string];
  const prefix = `${file}:${line}:${column} `;
  const excerpt = text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .slice(1)
    .map((l) => l.slice(prefix.length));
  const hint = /^SyntaxError\b/.test(what) ? JS_SYNTAX : (exportHint(what) ?? JS_TOP_LEVEL);
  if (file === wrapper) {
    return { message: what, problem: { file: join(dir, entry), path: '', message: what, hint }, hint };
  }
  const problem: Problem = {
    file: join(dir, file),
    line: Number(line),
    column: Number(column),
    path: '',
    message: what,
    hint,
    ...(excerpt.length > 0 ? { excerpt } : {}),
  };
  return { message: `${file}:${line}:${column}: ${what}`, problem, hint };
}

/** The export hint, only for an error about the export itself. */
function exportHint(text: string): string | undefined {
  return /does not export `tools`/.test(text)
    ? 'add `export const tools = { call(name, input) { … } }` returning JSON text (see fixtures/plugins/echo-js/echo.js)'
    : undefined;
}

/**
 * componentize-py's failure: a Python traceback of importing the plugin (its files appear as
 * `File "/<n>/<rel>", line N`), under componentize-py's own launcher frames and anyhow's `Caused by:`.
 */
export function explainComponentizePy(dir: string, entry: string, wrapper: string, output: string): Explained {
  const text = cleanToolOutput(output);
  const frames = [...text.matchAll(/^[ \t]*File "\/\d+\/([^"\n]+)", line (\d+)/gm)].filter((f) => f[1] !== wrapper);
  // The exception: anyhow's last cause, else the last line that reads like `SomeError: …`.
  const caused = /\nCaused by:\n([\s\S]*)$/.exec(text)?.[1];
  const candidates = (caused ?? text).split('\n').map((l) => l.trim());
  const what =
    candidates.filter((l) => /^[A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt)\b/.test(l)).at(-1) ?? candidates.filter((l) => l !== '').at(-1) ?? '';
  const hint = pyHint(what);
  const at = frames.at(-1);
  if (at !== undefined) {
    const [, file, line] = at;
    // No column: a traceback shows the line with its indentation removed.
    const problem: Problem = {
      file: join(dir, file!),
      line: Number(line),
      path: '',
      message: what,
      hint: hint ?? PY_TOP_LEVEL,
    };
    return { message: `${file}:${line}: ${what}`, problem, hint: problem.hint! };
  }
  // Raised by the wrapper itself: about the entry as a whole.
  if (/does not define class Tools/.test(what))
    return { message: what, problem: { file: join(dir, entry), path: '', message: what, hint: hint! }, hint: hint! };
  return { message: what || text, ...(hint === undefined ? {} : { hint }) };
}

function pyHint(what: string): string | undefined {
  if (/does not define class Tools/.test(what))
    return 'define `class Tools(exports.Tools)` with `def call(self, name: str, input: str) -> str` (see fixtures/plugins/echo-py)';
  if (/^(?:SyntaxError|IndentationError|TabError)\b/.test(what)) return 'fix the syntax error at that line';
  if (/^(?:ModuleNotFoundError|ImportError)\b/.test(what))
    return "the module is not in the plugin's folder or Python's standard library (componentize-py bundles only those); vendor it into the folder, or use runtime: python (Docker)";
  return undefined;
}

/** Docker's own lines in a step's output (container ids) and pip's progress bars. */
const DOCKER_NOISE = /^\s*(?:-+> Running in [0-9a-f]+|-+> [0-9a-f]{12}|Removing intermediate container [0-9a-f]+|[\u2500-\u259f]{10,}.*)$/;

/** A Docker build step's output, cleaned (cleanToolOutput) and without Docker's container lines and progress bars. */
export function cleanDockerOutput(output: string): string {
  return cleanToolOutput(output)
    .split('\n')
    .filter((l) => !DOCKER_NOISE.test(l))
    .join('\n');
}

/**
 * Docker's reason for a failed RUN step repeats the whole command line already named as the step:
 * `The command '/bin/sh -c <command>' returned a non-zero code: N` becomes `the command exited with code N`.
 */
export function dockerStepFailure(step: string, failure: string): string {
  const clean = cleanToolOutput(failure);
  const m = /^The command '(?:\/bin\/sh -c )?([\s\S]*)' returned a non-zero code: (\d+)$/.exec(clean);
  if (m !== null && step.replace(/^RUN\s+/, '').trim() === m[1]!.trim()) return `the command exited with code ${m[2]}`;
  return clean;
}
