/**
 * Where a served token lives on disk, and reading one the user gives.
 *
 * A generated token is written to `<dir>/mcp-<host>-<port>.token`, mode 0600
 * in a folder of mode 0700: `$XDG_RUNTIME_DIR/airlock` (the user's own
 * runtime folder, emptied at logout) or, without one, `<cache root>/run`.
 * Only the user who started the server (and root) can read it; clients of
 * that user read it from there.
 */
import { closeSync, fchmodSync, fstatSync, lstatSync, chmodSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../errors.ts';
import { cacheRoot } from '../paths.ts';
import { MIN_TOKEN_LENGTH } from './auth.ts';

/** The folder token files are written to (not created here). */
export function tokenDir(env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.XDG_RUNTIME_DIR;
  return runtime !== undefined && runtime !== '' ? join(runtime, 'airlock') : join(cacheRoot(), 'run');
}

/** The token file of a server bound to host:port. */
export function tokenFilePath(host: string, port: number, env: NodeJS.ProcessEnv = process.env): string {
  return join(tokenDir(env), `mcp-${host.replace(/[^A-Za-z0-9.-]/g, '_')}-${port}.token`);
}

/**
 * Writes `token` to the token file of host:port and returns its path. The
 * folder is made (or narrowed to) 0700 and must be ours and not a link; the
 * file is created afresh (O_EXCL: a link or a file planted in its place is
 * removed, never written through) with mode 0600.
 */
export function writeTokenFile(token: string, host: string, port: number, env: NodeJS.ProcessEnv = process.env): string {
  const path = tokenFilePath(host, port, env);
  const dir = tokenDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new AirlockError('permission-denied', `${dir} is not a folder of this user; the token file cannot be kept private there`, {
      problems: [
        { file: dir, path: '', message: 'not a folder owned by this user (or a symbolic link)', hint: 'remove it, or set XDG_RUNTIME_DIR to a private folder' },
      ],
    });
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  try {
    unlinkSync(path); // left by a server that did not shut down cleanly
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const fd = openSync(path, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${token}\n`);
  } finally {
    closeSync(fd);
  }
  return path;
}

/** Removes a token file (already gone is fine). */
export function removeTokenFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Largest token file read: a token is one short line. */
const MAX_TOKEN_FILE_BYTES = 4096;

/**
 * Reads a token the user keeps in a file: one line, surrounding whitespace
 * ignored. `warning` is set when the file is readable by other users.
 */
export function readTokenFile(path: string): { token: string; warning?: string } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new AirlockError('not-found', `cannot read the token file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_TOKEN_FILE_BYTES) throw badToken(path, `not a file of at most ${MAX_TOKEN_FILE_BYTES} bytes`);
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, st.size, 0);
    const token = checkToken(buf.subarray(0, n).toString('utf8').trim(), path);
    return (st.mode & 0o077) !== 0 ? { token, warning: `${path} is readable by other users (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it` } : { token };
  } finally {
    closeSync(fd);
  }
}

/** A user-given token, checked: `source` names where it came from (a file, or AIRLOCK_MCP_TOKEN). */
export function checkToken(token: string, source: string): string {
  if (!/^[\x21-\x7e]+$/.test(token)) throw badToken(source, 'a token is one word of visible ASCII characters');
  if (token.length < MIN_TOKEN_LENGTH) throw badToken(source, `a token needs at least ${MIN_TOKEN_LENGTH} characters (it has ${token.length})`);
  return token;
}

function badToken(source: string, message: string): AirlockError {
  return new AirlockError('invalid-policy', `bad MCP token in ${source}: ${message}`, {
    problems: [
      { file: source, path: '', message, hint: 'e.g. `openssl rand -base64 32 > token && chmod 600 token`, or leave it out and let the server generate one' },
    ],
  });
}
