import { resolve } from 'node:path';
import { formatProblem } from '../../errors.ts';
import { validatePluginOffThread } from '../../manifest/index.ts';
import { parseFlags } from '../flags.ts';
import { displayPath, UsageError, type CliIO, type Command } from '../io.ts';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'Check plugin folders (plugin.yaml and the files it names)',
  help: `Usage: airlock validate <plugin-dir|plugin.yaml>... [--json]

Checks each plugin's plugin.yaml against the v1 schema, detects its runtime
and checks the files it names. Prints one line per problem as
file:line:column: field: what is wrong (fix: how).

Options:
  --json     print results as JSON
  -h, --help show this help

Exit status: 0 when every plugin is valid, 1 when any is not.`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseFlags(argv, ['json']);
    if (positionals.length === 0) throw new UsageError('name at least one plugin folder, e.g. `airlock validate ./my-plugin`');
    let failed = 0;
    const results = await Promise.all(positionals.map((dir) => validatePluginOffThread(resolve(io.cwd, dir))));
    for (const r of results) if (!r.ok) failed++;
    if (values.json === true) {
      io.stdout(
        `${JSON.stringify(
          results.map((r) =>
            r.ok
              ? {
                  file: r.plugin.file,
                  ok: true,
                  name: r.plugin.manifest.name,
                  version: r.plugin.manifest.version,
                  runtime: r.plugin.runtime,
                  tools: r.plugin.manifest.tools.map((t) => t.name),
                }
              : { file: r.file, ok: false, problems: r.problems },
          ),
          null,
          2,
        )}\n`,
      );
      return failed === 0 ? 0 : 1;
    }
    for (const r of results) {
      if (r.ok) {
        const m = r.plugin.manifest;
        io.stdout(
          `ok  ${displayPath(io, r.plugin.file)}  ${m.name}@${m.version} (${r.plugin.runtime}, ${m.tools.length} tool${m.tools.length === 1 ? '' : 's'})\n`,
        );
      } else {
        for (const p of r.problems) io.stdout(`${formatProblem({ ...p, file: displayPath(io, p.file) })}\n`);
      }
    }
    if (results.length > 1 || failed > 0) io.stderr(`${results.length - failed} valid, ${failed} invalid\n`);
    return failed === 0 ? 0 : 1;
  },
};
