/**
 * The egress proxy's log (src/egress/main.ts writes it) as the Docker and Kubernetes engines read it back:
 * `listening` once, then one `decision` per request. The proxy runs beside the plugin, on its network, so its
 * lines are read as data from a container: bounded (a line past MAX_LOG_LINE is dropped to its end, holding
 * at most that), and a decision is passed on only in the shape the proxy writes.
 */
import type { EgressDecision } from '../egress/index.ts';
import { BoundedLines } from './lines.ts';

/** A decision line is a few hundred bytes (its reason quotes a request line, bounded by the proxy's header cap). */
export const MAX_LOG_LINE = 64 * 1024;

const KINDS = new Set(['connect', 'http']);
const str = (v: unknown): v is string => typeof v === 'string';
const optStr = (v: unknown): boolean => v === undefined || str(v);
const port = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
const status = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 100 && (v as number) <= 599;

/** `d` as the proxy writes an EgressDecision (src/egress/types.ts), else undefined. */
export function egressDecision(d: Record<string, unknown>): EgressDecision | undefined {
  if (!str(d.reason) || !str(d.client) || !str(d.kind)) return undefined;
  switch (d.decision) {
    case 'allowed':
      return KINDS.has(d.kind) && str(d.host) && port(d.port) && str(d.address) && str(d.rule) ? (d as unknown as EgressDecision) : undefined;
    case 'refused':
      return (KINDS.has(d.kind) || d.kind === 'unknown') &&
        optStr(d.host) &&
        (d.port === undefined || port(d.port)) &&
        optStr(d.address) &&
        str(d.code) &&
        status(d.status)
        ? (d as unknown as EgressDecision)
        : undefined;
    case 'failed':
      return KINDS.has(d.kind) && str(d.host) && port(d.port) && optStr(d.address) && str(d.code) && status(d.status)
        ? (d as unknown as EgressDecision)
        : undefined;
    default:
      return undefined;
  }
}

export interface ProxyLogHandlers {
  onListening(): void;
  onDecision(decision: EgressDecision): void;
}

/** Reads the proxy's stdout bytes; calls the handlers per line (an observer that throws does not stop the log). */
export class ProxyLog {
  readonly #lines: BoundedLines;

  constructor(h: ProxyLogHandlers) {
    this.#lines = new BoundedLines(
      MAX_LOG_LINE,
      (line) => {
        let msg: unknown;
        try {
          msg = JSON.parse(line);
        } catch {
          return;
        }
        if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return;
        const { event, time: _time, ...fields } = msg as Record<string, unknown>;
        if (event === 'listening') h.onListening();
        else if (event === 'decision') {
          const decision = egressDecision(fields);
          if (decision === undefined) return;
          try {
            h.onDecision(decision);
          } catch {
            // A throwing observer must not stop the log.
          }
        }
      },
      () => undefined,
    );
  }

  push(chunk: Buffer): void {
    this.#lines.push(chunk);
  }
}
