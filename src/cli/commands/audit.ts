import { resolve } from 'node:path';
import { verifyAuditLog } from '../../audit/verify.ts';
import { parseFlags } from '../flags.ts';
import { displayPath, UsageError, type CliIO, type Command } from '../io.ts';

export const auditCommand: Command = {
  name: 'audit',
  summary: 'Check an audit log: name each line altered or removed',
  help: `Usage: airlock audit verify <file> [--json]

Walks the hash chain of an audit log (written with --audit f, or the
library's HostOptions.audit): every line records the sha256 of the one
before it and its own sequence number. Prints each line that was altered or
removed, or "ok" with the number of lines and the chain's head (the last
line's seq and sha256). Cut-off or altered last lines leave no trace in the
chain itself: keep the head elsewhere and compare.

Options:
  --json     print {ok, lines, head, problems} as JSON
  -h, --help show this help

Exit status: 0 when the chain holds, 1 when a line was altered or removed.`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseFlags(argv, ['json']);
    const [sub, file, ...more] = positionals;
    if (sub !== 'verify' || file === undefined || more.length > 0) throw new UsageError('usage: airlock audit verify <file>');
    const path = resolve(io.cwd, file);
    let verdict: Awaited<ReturnType<typeof verifyAuditLog>>;
    try {
      verdict = await verifyAuditLog(path);
    } catch (err) {
      throw new UsageError(`cannot read ${displayPath(io, path)}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const ok = verdict.problems.length === 0;
    if (values.json === true) {
      io.stdout(`${JSON.stringify({ ok, ...verdict })}\n`);
    } else if (ok) {
      io.stdout(`ok: ${verdict.lines} lines, head seq ${verdict.head.seq} sha256 ${verdict.head.hash}\n`);
    } else {
      for (const p of verdict.problems) io.stdout(`${displayPath(io, path)}:${p.line}: ${p.kind}: ${p.message}\n`);
    }
    return ok ? 0 : 1;
  },
};
