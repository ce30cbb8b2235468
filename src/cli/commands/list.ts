import { parseArgs } from 'node:util';
import { PluginHost } from '../../host/index.ts';
import { resolvePluginArg, searchPath } from '../plugins.ts';
import { displayPath, type CliIO, type Command } from '../io.ts';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validatePlugin } from '../../manifest/index.ts';

export const listCommand: Command = {
  name: 'list',
  summary: 'List plugins and their tools, with the engine each runs on',
  help: `Usage: airlock list [plugin-dir|name ...] [--policy file] [--json]

Loads each plugin (default: every plugin under $AIRLOCK_PATH and ./plugins)
and lists its tools as agents see them (plugin_tool), with the engine chosen
and why.

Options:
  --policy <file>  host policy YAML
  --json           print as JSON
  -h, --help       show this help`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, policy: { type: 'string' } } });
    const dirs = positionals.length > 0 ? positionals.map((p) => resolvePluginArg(p, io.cwd)) : discover(io.cwd);
    const host = new PluginHost({ policy: values.policy });
    try {
      for (const dir of dirs) await host.load(dir);
      const plugins = host.plugins();
      const tools = host.tools();
      if (values.json === true) {
        io.stdout(`${JSON.stringify({ plugins: plugins.map(({ grants: _g, ...p }) => p), tools }, null, 2)}\n`);
        return 0;
      }
      if (plugins.length === 0) {
        io.stdout(`no plugins found (looked in ${searchPath(io.cwd).map((p) => displayPath(io, p)).join(', ')})\n`);
        return 0;
      }
      for (const p of plugins) {
        io.stdout(`${p.name} ${p.version}  ${displayPath(io, p.dir)}  engine: ${p.engine} (${p.reason})\n`);
        for (const t of tools.filter((t) => t.plugin === p.name)) io.stdout(`  ${t.name}  ${t.description}\n`);
      }
      return 0;
    } finally {
      await host.close();
    }
  },
};

function discover(cwd: string): string[] {
  return searchPath(cwd).flatMap((root) =>
    existsSync(root) && statSync(root).isDirectory()
      ? readdirSync(root)
          .map((n) => join(root, n))
          .filter((d) => validatePlugin(d).ok)
      : [],
  );
}
