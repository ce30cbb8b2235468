/**
 * The audit log's hash chain: every line carries `seq` (1, 2, …) and `prev`,
 * the sha256 of the line before it as written (without its newline; the
 * first line's `prev` is GENESIS). An altered line no longer hashes to what
 * the next line records; a removed one leaves a gap in `seq`.
 */
import { createHash } from 'node:crypto';

export const GENESIS = '0'.repeat(64);

export const lineHash = (line: string): string => createHash('sha256').update(line, 'utf8').digest('hex');

/** Where a chain stands: the last line's seq and hash. */
export interface ChainHead {
  seq: number;
  hash: string;
}
