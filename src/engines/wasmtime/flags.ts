/**
 * `wasmtime run` flags from the Grants. Each capability maps its own grant
 * (src/capabilities/<cap>/wasmtime.ts); this file only concatenates them and
 * collects refusals. A grant the CLI cannot express exactly is refused, never
 * widened: the engine then will not run the plugin and the selector falls
 * back to the worker engine.
 */
import { CAPABILITIES, type Capability } from '../../capabilities/index.ts';
import type { Grants } from '../../grants/types.ts';

export type { WasmtimeContribution as WasmtimeFlags } from '../../capabilities/index.ts';

export interface WasmtimeCommand {
  args: string[];
  env: Record<string, string>;
  refusals: string[];
}

/**
 * The whole command line for these grants. A capability without a wasmtime
 * mapping is a refusal: we cannot know that the CLI's defaults match its grant.
 */
export function wasmtimeCommand(grants: Grants, capabilities: readonly Capability[] = CAPABILITIES): WasmtimeCommand {
  const out: WasmtimeCommand = { args: [], env: Object.create(null) as Record<string, string>, refusals: [] }; // null prototype: env names are data
  for (const cap of capabilities) {
    if (cap.wasmtime === undefined) {
      out.refusals.push(`capability ${cap.name} has no wasmtime mapping`);
      continue;
    }
    const part = cap.wasmtime.call(cap, grants);
    out.args.push(...(part.args ?? []));
    Object.assign(out.env, part.env ?? {});
    out.refusals.push(...(part.refuse ?? []));
  }
  return out;
}

/** Why the wasmtime engine will not run a plugin with these grants (empty: it will). Pure. */
export function wasmtimeRefusals(grants: Grants, capabilities?: readonly Capability[]): string[] {
  return wasmtimeCommand(grants, capabilities).refusals;
}

/**
 * The flags and refusals a compiled component's imports add (the network
 * capability links wasi:http/types, refuses the outgoing handler): the part
 * of the command line known only once the component is compiled.
 */
export function wasmtimeImportsCommand(imports: readonly string[], capabilities: readonly Capability[] = CAPABILITIES): { args: string[]; refusals: string[] } {
  const out = { args: [] as string[], refusals: [] as string[] };
  for (const cap of capabilities) {
    const part = cap.wasmtimeImports?.(imports);
    if (part === undefined) continue;
    out.args.push(...(part.args ?? []));
    out.refusals.push(...(part.refuse ?? []));
  }
  return out;
}
