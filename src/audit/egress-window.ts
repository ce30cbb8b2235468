/**
 * What bounds the audit log's egress lines: a plugin decides how many connections it tries, so each of its
 * decisions cannot be a line of its own (one refused connection in a loop would fill the host's disk). Per
 * plugin and window (a minute by default), the first `distinct` different decisions are written whole; a
 * decision repeated word for word, and any decision past `distinct`, is counted instead. When the window
 * ends a summary entry says what was counted: each listed decision's repeats, and how many unlisted ones
 * were allowed, refused and failed. So a plugin writes at most `distinct` + 1 egress lines per window, and nothing
 * it did goes unsaid.
 */

export interface EgressWindowLimits {
  /** How long a plugin's window lasts, from its first decision (ms). */
  windowMs: number;
  /** Different decisions written whole per plugin and window. */
  distinct: number;
}

export const EGRESS_WINDOW: EgressWindowLimits = { windowMs: 60_000, distinct: 32 };

interface Listed {
  fields: Record<string, unknown>;
  repeats: number;
}

interface PluginWindow {
  from: number;
  /** Keyed by the decision's fields as written. */
  listed: Map<string, Listed>;
  /** Decisions past `distinct`, by kind of decision (allowed, refused, failed). */
  unlisted: Map<string, number>;
}

export class EgressWindow {
  readonly #limits: EgressWindowLimits;
  readonly #plugins = new Map<string, PluginWindow>();

  constructor(limits: Partial<EgressWindowLimits> = {}) {
    this.#limits = { ...EGRESS_WINDOW, ...limits };
  }

  get windowMs(): number {
    return this.#limits.windowMs;
  }

  /** Whether this decision (`fields`: what its line says besides the plugin) is written as its own line (true) or counted for the plugin's summary (false). */
  admit(plugin: string, fields: Record<string, unknown>, now: number): boolean {
    let w = this.#plugins.get(plugin);
    if (w === undefined) {
      w = { from: now, listed: new Map(), unlisted: new Map() };
      this.#plugins.set(plugin, w);
    }
    const key = JSON.stringify(fields);
    const seen = w.listed.get(key);
    if (seen !== undefined) {
      seen.repeats++;
      return false;
    }
    if (w.listed.size < this.#limits.distinct) {
      w.listed.set(key, { fields, repeats: 0 });
      return true;
    }
    const d = String(fields.decision);
    w.unlisted.set(d, (w.unlisted.get(d) ?? 0) + 1);
    return false;
  }

  /** Whether some window holds counts a summary will have to say. */
  get pending(): boolean {
    for (const w of this.#plugins.values()) if (counted(w)) return true;
    return false;
  }

  /**
   * The summaries of the windows ended by `now` (every window when `now` is undefined), which are forgotten:
   * the plugin's next decision starts a new window. A window with nothing counted ends without a summary.
   */
  due(now?: number): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const [plugin, w] of this.#plugins) {
      if (now !== undefined && now < w.from + this.#limits.windowMs) continue;
      this.#plugins.delete(plugin);
      if (!counted(w)) continue;
      const repeated = [...w.listed.values()].filter((l) => l.repeats > 0).map((l) => ({ ...l.fields, repeats: l.repeats }));
      out.push({
        plugin,
        from: new Date(w.from).toISOString(),
        to: new Date(now ?? Date.now()).toISOString(),
        ...(repeated.length === 0 ? {} : { repeated }),
        ...(w.unlisted.size === 0 ? {} : { unlisted: { ...Object.fromEntries(w.unlisted), past: this.#limits.distinct } }),
      });
    }
    return out;
  }
}

function counted(w: PluginWindow): boolean {
  if (w.unlisted.size > 0) return true;
  for (const l of w.listed.values()) if (l.repeats > 0) return true;
  return false;
}
