/**
 * `airlock audit verify`: walks an audit log's hash chain (./chain.ts) and
 * names each line that was altered or removed. Checked per link: a gap in
 * `seq` is a removal; a `prev` that does not match the line before it, with
 * no gap, is that line altered. What the chain cannot show by itself: the
 * last lines cut off, or the last line altered; compare the head this
 * prints with one kept elsewhere for that.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { GENESIS } from './chain.ts';

export interface AuditProblem {
  /** 1-based line number in the file. */
  line: number;
  kind: 'altered' | 'removed' | 'unreadable';
  message: string;
}

export interface AuditVerdict {
  lines: number;
  /** The last line's seq and sha256: keep it elsewhere to detect a cut or altered tail. */
  head: { seq: number; hash: string };
  problems: AuditProblem[];
}

const MAX_PROBLEMS = 100;
/**
 * A line longer than this is not read into memory (the file being checked may have been tampered with: one
 * line of gigabytes); it is still hashed, so the chain goes on, and reported unreadable.
 */
const MAX_LINE_BYTES = 16 * 1024 * 1024;

interface Line {
  /** The line's text, or undefined when it was longer than MAX_LINE_BYTES. */
  text: string | undefined;
  /** sha256 of the line as written (./chain.ts lineHash), however long. */
  hash: string;
}

/** The file's lines (split at \n), each hashed whole and kept only up to MAX_LINE_BYTES. */
async function* boundedLines(file: string): AsyncGenerator<Line> {
  let hash: Hash = createHash('sha256');
  let kept: Buffer[] = [];
  let size = 0;
  let any = false;
  const end = (): Line => {
    const line = { text: size > MAX_LINE_BYTES ? undefined : Buffer.concat(kept).toString('utf8'), hash: hash.digest('hex') };
    hash = createHash('sha256');
    kept = [];
    size = 0;
    any = false;
    return line;
  };
  const add = (part: Buffer): void => {
    hash.update(part);
    size += part.length;
    any = true;
    if (size <= MAX_LINE_BYTES) kept.push(part);
    else kept = [];
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
    let from = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, from)) {
      add(chunk.subarray(from, nl));
      yield end();
      from = nl + 1;
    }
    if (from < chunk.length) add(chunk.subarray(from));
  }
  // A last line without its newline (a cut-off write) still counts.
  if (any) yield end();
}

export async function verifyAuditLog(file: string): Promise<AuditVerdict> {
  const problems: AuditProblem[] = [];
  const say = (p: AuditProblem): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  let n = 0;
  let prevHash = GENESIS;
  let prevSeq = 0;
  for await (const line of boundedLines(file)) {
    n++;
    let entry: { seq?: unknown; prev?: unknown } = {};
    if (line.text !== undefined) {
      try {
        entry = JSON.parse(line.text) as typeof entry;
      } catch {
        entry = {};
      }
    }
    if (entry === null || typeof entry.seq !== 'number' || typeof entry.prev !== 'string') {
      const why = line.text === undefined ? `longer than ${MAX_LINE_BYTES} bytes` : 'no seq or prev';
      say({ line: n, kind: 'unreadable', message: `line ${n} is not an audit entry (${why}): altered` });
      // The chain goes on from this line's own hash, so one broken line is reported once.
      prevHash = line.hash;
      prevSeq++;
      continue;
    }
    const { seq, prev } = entry as { seq: number; prev: string };
    if (seq > prevSeq + 1) {
      say({
        line: n,
        kind: 'removed',
        message:
          seq === prevSeq + 2
            ? `the line with seq ${prevSeq + 1} was removed (between line ${n - 1} and line ${n})`
            : `the lines with seq ${prevSeq + 1} to ${seq - 1} were removed (between line ${n - 1} and line ${n})`,
      });
    } else if (seq !== prevSeq + 1) {
      say({ line: n, kind: 'altered', message: `line ${n} has seq ${seq} where ${prevSeq + 1} belongs: altered or moved` });
    } else if (prev !== prevHash) {
      say({
        line: n - 1,
        kind: 'altered',
        message:
          n === 1
            ? `line 1 does not start the chain (its prev is not the genesis hash): lines before it were removed`
            : `line ${n - 1} (seq ${prevSeq}) was altered: line ${n} records sha256 ${prev.slice(0, 12)}… for it, it hashes to ${prevHash.slice(0, 12)}…`,
      });
    }
    prevHash = line.hash;
    prevSeq = seq;
  }
  return { lines: n, head: { seq: prevSeq, hash: prevHash }, problems };
}
