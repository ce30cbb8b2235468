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
