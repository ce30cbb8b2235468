import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isAirlockError, type SerializedError } from '../../errors.ts';
import { MANIFEST_FILE } from '../../manifest/index.ts';
import { ENGINE_CHOICES, hostFromFlags, parseFlags } from '../flags.ts';
import { resolvePluginArg, searchPath } from '../plugins.ts';
import { displayPath, terminalSafe, type CliIO, type Command } from '../io.ts';

export const listCommand: Command = {
  name: 'list',
  summary: 'List plugins and their tools, with the engine each runs on',
  help: `Usage: airlock list [plugin-dir|name ...] [--policy file] [--json]

Loads each plugin (default: every plugin folder under $AIRLOCK_PATH and
./plugins) and lists its tools as agents see them (plugin_tool), with the
engine chosen and why. A plugin that cannot load is listed with its error.

Options:
  --policy <file>  host policy YAML
  --lock <file>    lock file (\`airlock lock\`): refuse a plugin it does not pin as it is
  --engine <name>  ${ENGINE_CHOICES}
  --json           print {plugins, tools, failed} as JSON
  -h, --help       show this help

Exit status: 0 when every plugin loaded, 1 when any did not.`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseFlags(argv, ['json', 'policy', 'lock', 'engine']);
    const dirs = positionals.length > 0 ? await Promise.all(positionals.map((p) => resolvePluginArg(p, io.cwd))) : discover(io.cwd);
    const host = hostFromFlags(values, io);
    try {
      const failed: Array<{ dir: string; error: SerializedError }> = [];
      for (const dir of dirs) {
        try {
          await host.load(dir);
        } catch (err) {
          if (!isAirlockError(err)) throw err;
          failed.push({ dir, error: err.toJSON() });
        }
      }
      const plugins = host.plugins().map(({ grants: _grants, ...p }) => p);
      const tools = host.tools();
      if (values.json === true) {
        io.stdout(`${JSON.stringify({ plugins, tools, failed }, null, 2)}\n`);
        return failed.length === 0 ? 0 : 1;
      }
      if (plugins.length === 0 && failed.length === 0) {
        io.stdout(
          `no plugins found (looked in ${searchPath(io.cwd)
            .map((p) => displayPath(io, p))
            .join(', ')})\n`,
        );
        return 0;
      }
      for (const p of plugins) {
        io.stdout(`${p.name} ${p.version}  ${displayPath(io, p.dir)}  engine: ${p.engine} (${p.reason})\n`);
        // One line per tool: a newline in a description must not print as a line of its own.
        for (const t of tools.filter((x) => x.plugin === p.name)) io.stdout(`  ${t.name}  ${terminalSafe(t.description, false)}\n`);
      }
      for (const f of failed) io.stderr(`${displayPath(io, f.dir)}: ${f.error.code}: ${f.error.message}\n`);
      return failed.length === 0 ? 0 : 1;
    } finally {
      await host.close();
    }
  },
};

/** Plugin folders (those with a plugin.yaml) directly under each search path folder. */
function discover(cwd: string): string[] {
  return searchPath(cwd).flatMap((root) => {
    if (!existsSync(root) || !statSync(root).isDirectory()) return [];
    return readdirSync(root)
      .sort()
      .map((n) => join(root, n))
      .filter((d) => existsSync(join(d, MANIFEST_FILE)));
  });
}
