/**
 * Reading the small files trust depends on (a lock file, a key, a signature):
 * through the bounded plugin-file reader (no FIFO or device is opened, the
 * size is checked before a byte is read), its errors given the trust code.
 */
import { basename, dirname, resolve } from 'node:path';
import { AirlockError, isAirlockError, type ErrorCode } from '../errors.ts';
import { isMissing, readPluginFile } from '../plugin-files/index.ts';

/** The text of `file` (at most `maxBytes`); `undefined` when it does not exist and `optional`. */
export async function readSmallFile(file: string, maxBytes: number, code: ErrorCode, what: string, optional: true): Promise<string | undefined>;
export async function readSmallFile(file: string, maxBytes: number, code: ErrorCode, what: string, optional?: false): Promise<string>;
export async function readSmallFile(file: string, maxBytes: number, code: ErrorCode, what: string, optional = false): Promise<string | undefined> {
  const path = resolve(file);
  try {
    return (await readPluginFile(dirname(path), basename(path), { code: 'invalid-manifest', maxBytes, sizeHint: `a ${what} is small` })).toString('utf8');
  } catch (err) {
    if (optional && isMissing(err)) return undefined;
    const reason = isAirlockError(err) ? (err.problems[0]?.message ?? err.message) : String(err);
    throw new AirlockError(code, `cannot read the ${what} ${path}: ${reason}`, { cause: err, details: { file: path } });
  }
}
