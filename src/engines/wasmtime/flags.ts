/**
 * `wasmtime run` flags from the Grants. Each capability maps its own grant
 * (src/capabilities/<cap>/wasmtime.ts); this file only concatenates them and
 * collects refusals. A grant the CLI cannot express exactly is refused, never
 * widened: the engine then will not run the plugin and the selector falls
 * back to the worker engine.
 */
import { CAPABILITIES } from '../../capabilities/index.ts';
import type { Capability } from '../../capabilities/types.ts';
import type { Grants } from '../../grants/types.ts';

/** What one capability contributes to a `wasmtime run` command line. */
export type WasmtimeFlags = {
  /** Arguments placed before the component path (`-W …`, `-S …`, `--dir …`, `--env …`). */
  args?: string[];
  /**
   * Variables of the wasmtime process. Granted env values travel here and the
   * guest gets them through `--env NAME` (inherit form), so secret values are
   * never on the command line, where every local user can read them
   * (/proc/<pid>/cmdline).
   */
  env?: Record<string, string>;
  /** Why the CLI cannot express this grant exactly; any refusal means the engine refuses the plugin. */
  refuse?: string[];
};

export interface WasmtimeCommand {
  args: string[];
  env: Record<string, string>;
  refusals: string[];
}

/** A capability as the wasmtime engine sees it: its name and its mapping. */
export interface WasmtimeCapability {
  readonly name: string;
  wasmtime?(grants: Grants): WasmtimeFlags;
}

/**
 * Adapts the shared capability list (src/capabilities/index.ts): each
 * capability's own `wasmtime` mapping; a capability without one leaves
 * `wasmtime` undefined, which refuses.
 */
export function fromCapabilities(capabilities: readonly Capability[]): WasmtimeCapability[] {
  return capabilities.map((cap) => {
    const own = cap.wasmtime;
    return own === undefined ? { name: cap.name } : { name: cap.name, wasmtime: (g: Grants) => own.call(cap, g) as WasmtimeFlags };
  });
}

/**
 * The default list: every shared capability (src/capabilities/index.ts) with
 * its wasmtime mapping, so a capability added there without one makes this
 * engine refuse rather than silently leave the CLI's default in place.
 */
export const WASMTIME_CAPABILITIES: readonly WasmtimeCapability[] = fromCapabilities(CAPABILITIES);

/**
 * The whole command line for these grants. A capability without a wasmtime
 * mapping is a refusal: we cannot know that the CLI's defaults match its grant.
 */
export function wasmtimeCommand(grants: Grants, capabilities: readonly WasmtimeCapability[] = WASMTIME_CAPABILITIES): WasmtimeCommand {
  const out: WasmtimeCommand = { args: [], env: Object.create(null) as Record<string, string>, refusals: [] }; // null prototype: env names are data
  for (const cap of capabilities) {
    if (cap.wasmtime === undefined) {
      out.refusals.push(`capability ${cap.name} has no wasmtime mapping`);
      continue;
    }
    const part = cap.wasmtime(grants);
    out.args.push(...(part.args ?? []));
    Object.assign(out.env, part.env ?? {});
    out.refusals.push(...(part.refuse ?? []));
  }
  return out;
}

/** Why the wasmtime engine will not run a plugin with these grants (empty: it will). Pure. */
export function wasmtimeRefusals(grants: Grants, capabilities?: readonly WasmtimeCapability[]): string[] {
  return wasmtimeCommand(grants, capabilities).refusals;
}
