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

/** A command as src/cli/main.ts lists it: its module is loaded only when it runs. */
export interface CommandEntry {
  name: string;
  summary: string;
  /** Started before the module loads (and not for --help): what the command's work will wait for, begun while its code loads. */
  prepare?(): Promise<void>;
  load(): Promise<Command>;
}

/** A path as the user would like to read it: relative to where they are, when that is shorter. */
export function displayPath(io: CliIO, path: string): string {
  const rel = relative(io.cwd, path);
  return rel !== '' && !rel.startsWith('..') && rel.length < path.length ? rel : path;
}

export class UsageError extends Error {}

export { terminalSafe } from '../terminal-safe.ts';
