/**
 * The error every plugin-files check throws: names the file, says what is
 * wrong and how to fix it, with the code the caller's stage uses
 * (`invalid-manifest` for plugin.yaml, `build-failed` for build inputs).
 * `details.reason` lets a caller tell a missing file (often fine) from a
 * refused one (never fine).
 */
import { AirlockError } from '../errors.ts';

export type FileErrorCode = 'invalid-manifest' | 'build-failed';
export type FileErrorReason = 'missing' | 'outside' | 'loop' | 'type' | 'size' | 'tree';

export function fileError(code: FileErrorCode, reason: FileErrorReason, file: string, message: string, hint: string, cause?: unknown): AirlockError {
  return new AirlockError(code, `${file}: ${message}; ${hint}`, {
    ...(cause === undefined ? {} : { cause }),
    problems: [{ file, path: '', message, hint }],
    details: { file, reason },
  });
}

export function isMissing(err: unknown): boolean {
  return err instanceof AirlockError && err.details.reason === 'missing';
}

/** What a non-regular file is, in words (for messages). */
export function kindOf(st: {
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a folder';
  if (st.isSymbolicLink()) return 'a symlink';
  return 'not a regular file';
}
