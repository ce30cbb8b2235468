/**
 * What a command may do to the outside world: write text and read stdin.
 * Commands return an exit code; only main.ts exits. Tests pass their own IO.
 */
import { relative } from 'node:path';

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Reads all of stdin (for `-` arguments). */
  stdin(): Promise<string>;
  cwd: string;
  /** Colours and progress displays only on a terminal. */
  isTTY: boolean;
  /** stderr is a terminal: progress goes to `status` instead of one line per step. */
  stderrIsTTY?: boolean;
  /** Replaces the status line on the terminal's stderr (its control characters escaped); '' clears it. */
  status?(line: string): void;
}

export interface Command {
  name: string;
  summary: string;
  /** Full help text, printed by `airlock <command> --help`. */
  help: string;
  run(argv: string[], io: CliIO): Promise<number>;
}

/** A path as the user would like to read it: relative to where they are, when that is shorter. */
export function displayPath(io: CliIO, path: string): string {
  const rel = relative(io.cwd, path);
  return rel !== '' && !rel.startsWith('..') && rel.length < path.length ? rel : path;
}

export class UsageError extends Error {}

/**
 * Characters a terminal acts on or that change how the text around them reads:
 * C0 controls (ESC starts cursor moves, screen clears, OSC 52 clipboard writes,
 * OSC 8 links), DEL, C1 controls (U+009B is a one-character CSI), and the
 * invisible and bidi format characters (U+202E reverses what follows; the
 * tag characters U+E0000-U+E007F, a surrogate pair each, spell text no one sees).
 */
const FORMAT = '\\u00ad\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff\\ufff9-\\ufffb';
const TAGS = '|\\udb40[\\udc00-\\udc7f]';
const UNSAFE = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${FORMAT}]${TAGS}`, 'g');
const UNSAFE_KEEP_LINES = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${FORMAT}]${TAGS}`, 'g');

/**
 * Text for a terminal or a log: every character of UNSAFE is shown as
 * `\uXXXX`, so what a plugin wrote (results, logs, error messages, tool
 * names and descriptions, manifest values) cannot move the cursor, clear the
 * screen, set the clipboard or hide and reorder text, whether or not the
 * stream is a TTY (CI logs and `tee` reach terminals later). `\uXXXX` is
 * also a JSON string escape of the same character, so JSON text stays valid
 * and parses to the same values. Newline and tab are kept for multi-line
 * text (logs, whole outputs) and escaped in a single-line field.
 */
export function terminalSafe(text: string, multiline = true): string {
  return text.replace(multiline ? UNSAFE_KEEP_LINES : UNSAFE, (c) => Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''));
}
