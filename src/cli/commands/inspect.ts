import { parseArgs } from 'node:util';
import { computeGrants, defaultPolicy, loadPolicy, type Grants } from '../../grants/index.ts';
import { formatHostPattern, formatDuration, formatSize, loadPlugin } from '../../manifest/index.ts';
import { displayPath, UsageError, type CliIO, type Command } from '../io.ts';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: "Show a plugin's tools, runtime and effective grants",
  help: `Usage: airlock inspect <plugin-dir> [--policy policy.yaml] [--json]

Shows the plugin's tools, its runtime and why, and the grants it gets under
the host policy (the default policy when --policy is not given): or, when the
plugin asks for more than the policy allows, each refused permission.

Options:
  --policy <file>  host policy YAML (see \`airlock schema --policy\`)
  --json           print as JSON
  -h, --help       show this help

Exit status: 0 when the plugin is valid and every permission it asks for is granted, else 1.`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, policy: { type: 'string' } } });
    if (positionals.length !== 1) throw new UsageError('name one plugin folder, e.g. `airlock inspect ./my-plugin`');
    const plugin = loadPlugin(positionals[0]!);
    const policy = values.policy === undefined ? defaultPolicy() : loadPolicy(values.policy);
    const grants = computeGrants(plugin, policy);
    const m = plugin.manifest;
    if (values.json === true) {
      io.stdout(`${JSON.stringify({ name: m.name, version: m.version, runtime: plugin.runtime, runtimeReason: plugin.runtimeReason, tools: m.tools, grants }, null, 2)}\n`);
      return 0;
    }
    const out: string[] = [];
    out.push(`${m.name} ${m.version}${m.description === '' ? '' : ` - ${m.description}`}`);
    out.push(`  manifest   ${displayPath(io, plugin.file)}`);
    out.push(`  runtime    ${plugin.runtime} (${plugin.runtimeReason})`);
    out.push(`  entry      ${m.entry}`);
    out.push('  tools');
    const width = Math.max(...m.tools.map((t) => t.name.length));
    for (const t of m.tools) out.push(`    ${t.name.padEnd(width)}  ${t.description}`);
    out.push(`  grants under ${values.policy === undefined ? 'the default policy' : displayPath(io, policy.origin)}`);
    out.push(...describeGrants(grants).map((l) => `    ${l}`));
    io.stdout(`${out.join('\n')}\n`);
    return 0;
  },
};

export function describeGrants(g: Grants): string[] {
  const r = g.resources;
  const env = Object.keys(g.env);
  return [
    `network     ${g.network === null ? 'none' : g.network.allow.map(formatHostPattern).join(', ')}`,
    `filesystem  ${g.filesystem.length === 0 ? 'none' : g.filesystem.map((f) => `${f.mount} <- ${f.hostPath} (${f.access})`).join('\n                ')}`,
    `env         ${env.length === 0 ? 'none' : env.join(', ')}`,
    `limits      memory ${formatSize(r.memoryBytes)}, cpu ${r.cpu}, timeout ${formatDuration(r.timeoutMs)}, concurrency ${r.concurrency}, output ${formatSize(r.outputBytes)}, logs ${formatSize(r.logBytes)}, queue ${r.queue}`,
    `isolation   ${g.isolation}`,
  ];
}
