/**
 * What the status page shows beyond the host's plugin list: calls running
 * now, recent refusals (egress requests refused, loads and calls denied
 * permission) and each plugin's recent latencies. A host observer with
 * fixed bounds: a plugin cannot grow it by calling or connecting without end.
 */
import type { EgressDecision } from '../egress/index.ts';
import type { CallEnd, CallStart, HostObserver, LoadRecord } from '../observe/observer.ts';

const MAX_REFUSALS = 50;
const MAX_LATENCIES = 60;
const MAX_PLUGINS = 256;

export interface Refusal {
  at: number;
  plugin: string;
  what: 'egress' | 'load' | 'call';
  reason: string;
}

export class StatusBoard implements HostObserver {
  readonly live = new Map<number, CallStart>();
  readonly refusals: Refusal[] = [];
  readonly latencies = new Map<string, number[]>();

  callStart(c: CallStart): void {
    this.live.set(c.id, c);
  }

  callEnd(c: CallEnd): void {
    this.live.delete(c.id);
    let list = this.latencies.get(c.plugin);
    if (list === undefined) {
      if (this.latencies.size >= MAX_PLUGINS) return;
      list = [];
      this.latencies.set(c.plugin, list);
    }
    list.push(c.durationMs);
    if (list.length > MAX_LATENCIES) list.shift();
    if (c.outcome === 'permission-denied') this.#refused({ at: Date.now(), plugin: c.plugin, what: 'call', reason: `${c.tool}: permission-denied` });
  }

  load(r: LoadRecord): void {
    if (r.error?.code === 'permission-denied') this.#refused({ at: Date.now(), plugin: r.plugin ?? r.dir, what: 'load', reason: r.error.message });
  }

  egress(plugin: string, d: EgressDecision): void {
    if (d.decision === 'refused')
      this.#refused({ at: Date.now(), plugin, what: 'egress', reason: `${d.host ?? '?'}${d.port === undefined ? '' : `:${d.port}`}: ${d.reason}` });
  }

  #refused(r: Refusal): void {
    this.refusals.unshift(r);
    if (this.refusals.length > MAX_REFUSALS) this.refusals.pop();
  }
}
