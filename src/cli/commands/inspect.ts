import { resolve } from 'node:path';
import { probeEngines, probesFor } from '../../engines/probe.ts';
import { type AirlockError, isAirlockError } from '../../errors.ts';
import { computeGrants, type Grants } from '../../grants/index.ts';
import type { EnginePreference } from '../../host/index.ts';
import { planSelection } from '../../provider/index.ts';
import type { Selection } from '../../selector/index.ts';
import { formatHostPattern, formatDuration, formatSize, loadPluginOffThread } from '../../manifest/index.ts';
import { fileDigest, pluginDigest } from '../../trust/index.ts';
import { ENGINE_CHOICES, engineFromFlags, parseFlags, policyFromFlags } from '../flags.ts';
import { displayPath, terminalSafe, UsageError, type CliIO, type Command } from '../io.ts';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: "Show a plugin's tools, runtime, engine and effective grants",
  help: `Usage: airlock inspect <plugin-dir> [--policy policy.yaml] [--engine name] [--json]

Shows the plugin's digest (what \`airlock lock\` pins and \`airlock sign\`
signs) and its built component's, its tools, its runtime and why, the
engine that would run it and why (engines passed over, and fallbacks), and
the grants it gets under the host policy (the default policy when --policy
is not given): or, when the plugin asks for more than the policy allows,
each refused permission.
A wasm entry given as source is built first (cached), as \`airlock call\` would.

Options:
  --policy <file>  host policy YAML (see \`airlock schema --policy\`)
  --engine <name>  ${ENGINE_CHOICES}: the engine choice to plan with
  --json           print as JSON
  -h, --help       show this help

Exit status: 0 when the plugin is valid and every permission it asks for is
granted, else 1; with --engine, 1 also when that engine cannot run it here
(engine-unavailable, with how to install it). With auto, an engine problem
is shown on the engine line.`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseFlags(argv, ['json', 'policy', 'engine']);
    if (positionals.length !== 1) throw new UsageError('name one plugin folder, e.g. `airlock inspect ./my-plugin`');
    const preference = engineFromFlags(values);
    const plugin = await loadPluginOffThread(resolve(io.cwd, positionals[0]!));
    const policy = policyFromFlags(values, io);
    const grants = computeGrants(plugin, policy);
    const m = plugin.manifest;
    const engine = await planEngine(grants, preference);
    const digests = await digestsOf(plugin.dir, engine);
    if (values.json === true) {
      const engineJson =
        'error' in engine
          ? { error: engine.error.toJSON() }
          : { ...engine.selection, ...(engine.component === undefined ? {} : { component: engine.component }) };
      // Env values are secrets: the JSON names each granted variable and says whether it is set, never its value.
      const shown = { ...grants, env: envStatus(grants, m.permissions.env) };
      io.stdout(
        `${JSON.stringify({ name: m.name, version: m.version, digests, runtime: plugin.runtime, runtimeReason: plugin.runtimeReason, engine: engineJson, tools: m.tools, grants: shown }, null, 2)}\n`,
      );
      return 0;
    }
    const out: string[] = [];
    out.push(`${m.name} ${m.version}${m.description === '' ? '' : ` - ${terminalSafe(m.description, false)}`}`);
    out.push(`  manifest   ${displayPath(io, plugin.file)}`);
    out.push(`  digest     ${digests.plugin}`);
    if (digests.component !== undefined) out.push(`  component  ${digests.component}`);
    out.push(`  runtime    ${plugin.runtime} (${plugin.runtimeReason})`);
    // Plugin-chosen text that may hold newlines (a file name can) stays on its line: it cannot spell lines of its own.
    out.push(`  entry      ${terminalSafe(m.entry, false)}`);
    out.push(...describeEngine(engine).map((l, i) => (i === 0 ? `  engine     ${l}` : `             ${l}`)));
    out.push('  tools');
    const width = Math.max(...m.tools.map((t) => t.name.length));
    for (const t of m.tools) out.push(`    ${t.name.padEnd(width)}  ${terminalSafe(t.description, false)}`);
    out.push(`  grants under ${values.policy === undefined ? 'the default policy' : displayPath(io, policy.origin)}`);
    out.push(...describeGrants(grants, m.permissions.env).map((l) => `    ${l}`));
    io.stdout(`${out.join('\n')}\n`);
    return 0;
  },
};

/**
 * The plugin's digest (what `airlock lock` pins and `airlock sign` signs) and the built component's (the bytes an
 * engine runs). An image's id is known once it is built: `airlock build` shows it.
 */
async function digestsOf(dir: string, engine: PlannedEngine): Promise<{ plugin: string; component?: string }> {
  const plugin = await pluginDigest(dir);
  const component = 'error' in engine || engine.component === undefined ? undefined : await fileDigest(engine.component).catch(() => undefined);
  return component === undefined ? { plugin } : { plugin, component };
}

type PlannedEngine = { selection: Selection; component: string | undefined } | { error: AirlockError };

/**
 * The selector's choice for these grants, probing the engines here. With an
 * explicit --engine, an engine that cannot run the plugin is the command's
 * error (engine-unavailable with the install hint); with auto, the problem
 * is shown in the engine line instead (inspect still describes the plugin).
 */
async function planEngine(grants: Grants, preference: EnginePreference): Promise<PlannedEngine> {
  try {
    const { selection, component } = await planSelection(grants, preference, await probesFor(grants, await probeEngines()));
    return { selection, component };
  } catch (e) {
    if (preference !== 'auto' || !isAirlockError(e)) throw e;
    return { error: e };
  }
}

export function describeEngine(engine: PlannedEngine): string[] {
  if ('error' in engine) return [`none: ${engine.error.code}: ${engine.error.message}`];
  const s = engine.selection;
  const from = s.choice === 'auto' ? 'engine: auto' : `engine: ${s.choice} (${s.choiceSource})`;
  return [
    `${s.engine} (${s.reason}; ${from})`,
    ...s.fallbacks.map((f) => `fallback ${f.engine}: ${f.reason}`),
    ...s.skipped.map((f) => `passed over ${f.engine}: ${f.reason}`),
  ];
}

/** Each granted env name and whether the host has it set; values are secrets and never shown. */
export function envStatus(g: Grants, asked: readonly string[]): Array<{ name: string; set: boolean }> {
  return asked.map((name) => ({ name, set: Object.hasOwn(g.env, name) }));
}

export function describeGrants(g: Grants, asked: readonly string[] = Object.keys(g.env)): string[] {
  const r = g.resources;
  const env = envStatus(g, asked).map((e) => `${e.name} (${e.set ? 'set' : 'not set'})`);
  return [
    `network     ${g.network === null ? 'none' : g.network.allow.map(formatHostPattern).join(', ')}`,
    `filesystem  ${g.filesystem.length === 0 ? 'none' : g.filesystem.map((f) => `${f.mount} <- ${terminalSafe(f.hostPath, false)} (${f.access})`).join('\n                ')}`,
    `env         ${env.length === 0 ? 'none' : env.join(', ')}`,
    `limits      memory ${formatSize(r.memoryBytes)}, cpu ${r.cpu}, timeout ${formatDuration(r.timeoutMs)}, concurrency ${r.concurrency}, output ${formatSize(r.outputBytes)}, logs ${formatSize(r.logBytes)}, queue ${r.queue}, disk ${formatSize(r.diskBytes)}, files ${r.files}`,
    ...(g.unboundedWrites === undefined || g.unboundedWrites.length === 0
      ? []
      : [`unbounded   read-write grants have no disk/files quota on ${g.unboundedWrites.join(', ')} (host policy unboundedWrites)`]),
    `isolation   ${g.isolation}${g.idleMs === undefined ? '' : `, idle instances stopped after ${formatDuration(g.idleMs)} (host policy idle)`}`,
  ];
}
