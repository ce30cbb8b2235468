/**
 * What a PluginHost tells those who watch it (the audit log, telemetry, the
 * status page): loads, calls as they start and end, egress decisions and
 * grant changes. An observer must not throw (a throw is dropped) and must
 * not hold a call up: it gets plain records, after the fact.
 */
import type { EgressDecision } from '../egress/index.ts';
import type { EngineName } from '../engines/types.ts';
import type { AirlockError, ErrorCode } from '../errors.ts';
import type { Grants } from '../grants/index.ts';
import type { CallUsage } from './usage.ts';

export interface LoadRecord {
  /** '' for the host's own (default) agent. */
  agent: string;
  dir: string;
  plugin?: string;
  version?: string;
  /** The content hash of the plugin's files (absent when the load failed before hashing). */
  digest?: string;
  engine?: EngineName;
  grants?: Grants;
  /** Set when the load failed: its code and, for a policy refusal, each refused permission. */
  error?: AirlockError;
  /** When the load began (epoch ms) and how long it took until it settled. */
  startedAt?: number;
  durationMs?: number;
}

/** A pool opened for a plugin (its build, content hash and instances' start), or failed to. */
export interface BuildRecord {
  plugin: string;
  engine?: EngineName;
  startedAt: number;
  durationMs: number;
  error?: AirlockError;
}

export interface CallStart {
  /** Unique within the host. */
  id: number;
  agent: string;
  plugin: string;
  tool: string;
  startedAt: number;
}

export interface CallEnd extends CallStart {
  engine?: EngineName;
  outcome: 'ok' | ErrorCode;
  durationMs: number;
  usage?: CallUsage;
  /** The call's input, only when the host was told to keep inputs (AuditOptions.inputs). */
  input?: unknown;
}

export interface GrantChange {
  action: 'grant' | 'revoke';
  plugin: string;
  network?: string[];
  filesystem?: string[];
  env?: string[];
  /** Where the change was persisted, when it was. */
  policyFile?: string;
}

export interface HostObserver {
  load?(record: LoadRecord): void;
  build?(record: BuildRecord): void;
  callStart?(call: CallStart): void;
  callEnd?(call: CallEnd): void;
  egress?(plugin: string, decision: EgressDecision): void;
  grant?(change: GrantChange): void;
  close?(): Promise<void>;
}

/** Calls every observer; one that throws is skipped, never the host's work. */
export type Observers = Required<Omit<HostObserver, 'close'>> & { close(): Promise<void> };

export function fanOut(observers: readonly HostObserver[]): Observers {
  const each =
    <K extends keyof Omit<HostObserver, 'close'>>(key: K) =>
    (...args: Parameters<NonNullable<HostObserver[K]>>): void => {
      for (const o of observers) {
        try {
          (o[key] as ((...a: typeof args) => void) | undefined)?.(...args);
        } catch {
          // An observer's failure is its own.
        }
      }
    };
  return {
    load: each('load'),
    build: each('build'),
    callStart: each('callStart'),
    callEnd: each('callEnd'),
    egress: each('egress'),
    grant: each('grant'),
    close: async () => {
      await Promise.allSettled(observers.map((o) => o.close?.()));
    },
  };
}
