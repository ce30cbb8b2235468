/**
 * The audit log: one JSON line per load (digest, grants, refusals), call
 * (agent, tool, outcome code, usage; never the input unless `inputs` is
 * set), egress decision and grant change, hash-chained (./chain.ts) so
 * `airlock audit verify` names a line altered or removed. Env values never
 * appear: grants are written with env names only.
 *
 * Lines go to a file (appended; an existing chain is continued), stderr, or
 * a callback. File writes are asynchronous and bounded: past MAX_BACKLOG
 * bytes waiting, lines are counted instead and a `dropped` line says how
 * many once the file catches up (a plugin making egress requests without
 * end cannot grow the host's memory through its log). Nor its disk: a
 * plugin's egress decisions are written per window (./egress-window.ts), the
 * first few different ones whole, the rest counted in an `egress-summary`
 * line when the window ends (or the log closes).
 */
import { createWriteStream, openSync, readSync, closeSync, fstatSync, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { terminalSafe } from '../terminal-safe.ts';
import type { EgressDecision } from '../egress/index.ts';
import { AirlockError } from '../errors.ts';
import type { Grants } from '../grants/index.ts';
import type { CallEnd, GrantChange, HostObserver, LoadRecord } from '../observe/observer.ts';
import { GENESIS, lineHash, type ChainHead } from './chain.ts';
import { EgressWindow, type EgressWindowLimits } from './egress-window.ts';

const MAX_BACKLOG = 8 * 1024 * 1024;
/** How much of an existing file's end is read to find its last line. */
const TAIL_BYTES = 1024 * 1024;

export interface AuditOptions {
  /** Append to this file (created 0600 if missing; an existing chain is continued). */
  file?: string;
  /** Write lines to stderr. */
  stderr?: boolean;
  /** Called with each line (without newline) and the entry it encodes. */
  onLine?: (line: string, entry: Record<string, unknown>) => void;
  /** Also record each call's input. Off by default: inputs may hold personal data or secrets. */
  inputs?: boolean;
  /** How many different egress decisions a plugin writes whole per window (default 32 a minute); the rest are counted. */
  egress?: Partial<EgressWindowLimits>;
}

/** What the log says of grants: env by name only (values are secrets). */
function grantsSummary(g: Grants): Record<string, unknown> {
  return {
    network: g.network?.allow.map((p) => `${p.wildcard ? '*.' : ''}${p.host}${p.port === undefined ? '' : `:${p.port}`}`) ?? null,
    filesystem: g.filesystem.map((f) => ({ path: f.hostPath, mount: f.mount, access: f.access })),
    env: Object.keys(g.env),
    resources: g.resources,
    isolation: g.isolation,
  };
}

/** The last line of `file` (its chain head), or undefined when the file is missing or empty. */
function headOf(file: string): ChainHead | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    const lines = buf
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '');
    const last = lines.at(-1);
    if (last === undefined) return undefined;
    let seq: unknown;
    try {
      seq = (JSON.parse(last) as { seq?: unknown }).seq;
    } catch {
      seq = undefined;
    }
    if (typeof seq !== 'number') {
      throw new AirlockError('invalid-input', `${file} does not end with an audit line (no seq); run \`airlock audit verify ${file}\`, or log to a new file`);
    }
    return { seq, hash: lineHash(last) };
  } finally {
    closeSync(fd);
  }
}

export class AuditLog implements HostObserver {
  readonly #options: AuditOptions;
  #head: ChainHead;
  readonly #stream: WriteStream | undefined;
  #dropped = 0;
  readonly #egress: EgressWindow;
  /** Writes the summaries of ended egress windows while a plugin is quiet (unref'd: it never keeps the process up). */
  #summaryTimer: NodeJS.Timeout | undefined;

  constructor(options: AuditOptions) {
    this.#options = options;
    this.#egress = new EgressWindow(options.egress);
    const file = options.file === undefined ? undefined : resolve(options.file);
    this.#head = (file === undefined ? undefined : headOf(file)) ?? { seq: 0, hash: GENESIS };
    if (file !== undefined) {
      this.#stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
      // A write error (disk full) must not crash the host; later lines are dropped and counted.
      this.#stream.on('error', () => undefined);
    }
  }

  /** Appends one entry to the chain. */
  record(type: string, fields: Record<string, unknown>): void {
    this.#summarise(Date.now());
    this.#append(type, fields);
  }

  /** Writes the summaries of the egress windows ended by `now` (all of them when undefined). */
  #summarise(now: number | undefined): void {
    for (const s of this.#egress.due(now)) this.#append('egress-summary', s);
    if (this.#summaryTimer === undefined && now !== undefined && this.#egress.pending) {
      this.#summaryTimer = setTimeout(() => {
        this.#summaryTimer = undefined;
        this.#summarise(Date.now());
      }, this.#egress.windowMs);
      this.#summaryTimer.unref();
    }
  }

  #append(type: string, fields: Record<string, unknown>): void {
    if (this.#stream !== undefined && this.#stream.writableLength > MAX_BACKLOG) {
      this.#dropped++;
      return;
    }
    if (this.#dropped > 0) {
      const dropped = this.#dropped;
      this.#dropped = 0;
      this.#write('dropped', { count: dropped, reason: 'the log could not keep up' });
    }
    this.#write(type, fields);
  }

  #write(type: string, fields: Record<string, unknown>): void {
    const entry = { seq: this.#head.seq + 1, time: new Date().toISOString(), prev: this.#head.hash, type, ...fields };
    // Escaped as the CLI escapes a terminal's text: plugin-chosen strings (a manifest key, an error message) could
    // otherwise reorder or hide part of the line for whoever reads the log. `\uXXXX` is JSON's own escape: same values.
    const line = terminalSafe(JSON.stringify(entry), false);
    this.#head = { seq: entry.seq, hash: lineHash(line) };
    this.#stream?.write(`${line}\n`);
    if (this.#options.stderr === true) process.stderr.write(`${line}\n`);
    this.#options.onLine?.(line, entry);
  }

  load(r: LoadRecord): void {
    this.record('load', {
      agent: r.agent,
      dir: r.dir,
      ...(r.plugin === undefined ? {} : { plugin: r.plugin, version: r.version }),
      ...(r.digest === undefined ? {} : { digest: r.digest }),
      ...(r.engine === undefined ? {} : { engine: r.engine }),
      outcome: r.error === undefined ? 'ok' : r.error.code,
      ...(r.grants === undefined ? {} : { grants: grantsSummary(r.grants) }),
      ...(r.error === undefined ? {} : { message: r.error.message }),
      ...(r.error !== undefined && r.error.problems.length > 0 ? { refusals: r.error.problems.map((p) => ({ path: p.path, message: p.message })) } : {}),
    });
  }

  callEnd(c: CallEnd): void {
    this.record('call', {
      agent: c.agent,
      plugin: c.plugin,
      tool: c.tool,
      ...(c.engine === undefined ? {} : { engine: c.engine }),
      outcome: c.outcome,
      durationMs: c.durationMs,
      ...(c.usage === undefined ? {} : { usage: c.usage }),
      ...(this.#options.inputs === true && c.input !== undefined ? { input: c.input } : {}),
    });
  }

  egress(plugin: string, d: EgressDecision): void {
    const fields = {
      decision: d.decision,
      kind: d.kind,
      ...(d.host === undefined ? {} : { host: d.host }),
      ...(d.port === undefined ? {} : { port: d.port }),
      ...(d.decision === 'allowed' ? { rule: d.rule } : { code: d.code }),
      reason: d.reason,
    };
    // A window that ended is summarised before this decision opens the next one.
    const now = Date.now();
    this.#summarise(now);
    if (this.#egress.admit(plugin, fields, now)) this.#append('egress', { plugin, ...fields });
    else this.#summarise(now);
  }

  grant(change: GrantChange): void {
    this.record(change.action, { ...change, action: undefined });
  }

  /** Resolves once every line is written. */
  close(): Promise<void> {
    clearTimeout(this.#summaryTimer);
    this.#summaryTimer = undefined;
    this.#summarise(undefined);
    const stream = this.#stream;
    if (stream === undefined || stream.closed) return Promise.resolve();
    return new Promise((r) => stream.end(r));
  }
}
