/**
 * A call's usage: what the engine measured (CPU, peak memory, files), with
 * what the host sees itself (wall time, bytes in and out, and the egress
 * decisions of the plugin's proxy while the call ran). Figures an engine
 * cannot give are named in `unmeasured`, never reported as zero.
 */
import type { EgressDecision } from '../egress/index.ts';
import type { EngineUsage, FileUsage, RefusedRequest } from '../engines/types.ts';

/** Distinct destinations kept per call; more are counted, not listed. */
const MAX_HOSTS = 32;

export interface NetworkHostUsage {
  /** Absent when the request could not be parsed. */
  host?: string;
  port?: number;
  decision: EgressDecision['decision'];
  /** The refusal's or failure's code. */
  code?: string;
  count: number;
}

export interface NetworkUsage {
  allowed: number;
  refused: number;
  failed: number;
  /** Each destination and decision once (at most 32), with how often. */
  hosts: NetworkHostUsage[];
}

export type UsageFigure = 'cpuMs' | 'memoryPeakBytes' | 'files';

export interface CallUsage {
  /** From the call entering the host to its result. */
  wallMs: number;
  /** CPU time of the instance during the call (worker engine: the worker thread; Docker: the container). */
  cpuMs?: number;
  /** The instance's peak memory (see EngineUsage). */
  memoryPeakBytes?: number;
  /** The input's JSON text, UTF-8 bytes. */
  inputBytes: number;
  /** The result's JSON text, UTF-8 bytes (0 for a failed call). */
  outputBytes: number;
  /**
   * Outgoing connections the plugin's egress proxy decided while the call ran.
   * Calls running at once in one pool share a proxy: a decision counts in each of them.
   */
  network: NetworkUsage;
  files?: FileUsage;
  /** The figures this engine cannot give (absent above). */
  unmeasured: UsageFigure[];
}

/** The egress decisions of one call, counted as they come. */
export class NetworkTally {
  readonly usage: NetworkUsage = { allowed: 0, refused: 0, failed: 0, hosts: [] };

  add(d: EgressDecision): void {
    this.#count(d.decision, d.host, d.port, d.decision === 'allowed' ? undefined : d.code);
  }

  /** A request the engine refused itself (EngineUsage.networkRefused). */
  refused(r: RefusedRequest): void {
    this.#count('refused', r.host, r.port, r.code);
  }

  #count(decision: EgressDecision['decision'], host: string | undefined, port: number | undefined, code: string | undefined): void {
    const d = { decision, host, port };
    this.usage[decision]++;
    const same = this.usage.hosts.find((h) => h.host === d.host && h.port === d.port && h.decision === d.decision && h.code === code);
    if (same !== undefined) same.count++;
    else if (this.usage.hosts.length < MAX_HOSTS) {
      this.usage.hosts.push({
        ...(d.host === undefined ? {} : { host: d.host }),
        ...(d.port === undefined ? {} : { port: d.port }),
        decision: d.decision,
        ...(code === undefined ? {} : { code }),
        count: 1,
      });
    }
  }
}

/**
 * The egress decisions of one pool, handed to the calls running in it: a
 * pool's proxy serves all its instances, so a decision belongs to the calls
 * in flight when it was made.
 */
export class EgressTap {
  readonly #running = new Set<NetworkTally>();

  begin(): NetworkTally {
    const tally = new NetworkTally();
    this.#running.add(tally);
    return tally;
  }

  end(tally: NetworkTally): void {
    this.#running.delete(tally);
  }

  decision(d: EgressDecision): void {
    for (const t of this.#running) t.add(d);
  }
}

const FIGURES: UsageFigure[] = ['cpuMs', 'memoryPeakBytes', 'files'];

export function callUsage(
  engine: EngineUsage | undefined,
  host: { wallMs: number; inputBytes: number; outputBytes: number; network: NetworkTally },
): CallUsage {
  const e = engine ?? {};
  for (const r of e.networkRefused ?? []) host.network.refused(r);
  return {
    wallMs: host.wallMs,
    ...(e.cpuMs === undefined ? {} : { cpuMs: e.cpuMs }),
    ...(e.memoryPeakBytes === undefined ? {} : { memoryPeakBytes: e.memoryPeakBytes }),
    inputBytes: host.inputBytes,
    outputBytes: host.outputBytes,
    network: host.network.usage,
    ...(e.files === undefined ? {} : { files: e.files }),
    unmeasured: FIGURES.filter((f) => e[f] === undefined),
  };
}
