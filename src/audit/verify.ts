/**
 * `airlock audit verify`: walks an audit log's hash chain (./chain.ts) and
 * names each line that was altered or removed. Checked per link: a gap in
 * `seq` is a removal; a `prev` that does not match the line before it, with
 * no gap, is that line altered. What the chain cannot show by itself: the
 * last lines cut off, or the last line altered; compare the head this
 * prints with one kept elsewhere for that.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { GENESIS, lineHash } from './chain.ts';

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

export async function verifyAuditLog(file: string): Promise<AuditVerdict> {
  const problems: AuditProblem[] = [];
  const say = (p: AuditProblem): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  let n = 0;
  let prevHash = GENESIS;
  let prevSeq = 0;
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    n++;
    let entry: { seq?: unknown; prev?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      entry = {};
    }
    if (typeof entry.seq !== 'number' || typeof entry.prev !== 'string') {
      say({ line: n, kind: 'unreadable', message: `line ${n} is not an audit entry (no seq or prev): altered` });
      // The chain goes on from this line's own hash, so one broken line is reported once.
      prevHash = lineHash(line);
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
    prevHash = lineHash(line);
    prevSeq = seq;
  }
  return { lines: n, head: { seq: prevSeq, hash: prevHash }, problems };
}
