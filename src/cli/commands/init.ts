import { parseArgs } from 'node:util';
import { initPlugin, isTemplate, TEMPLATES } from '../../init/index.ts';
import { displayPath, UsageError, type CliIO, type Command } from '../io.ts';

export const initCommand: Command = {
  name: 'init',
  summary: 'Create a new plugin folder from a template',
  help: `Usage: airlock init <name|path> [--template ${TEMPLATES.join('|')}] [--json]

Creates the folder (its last path segment is the plugin name, a lowercase
DNS label) with a plugin.yaml, the entry source and a README. The plugin
validates, builds and answers a call as created:

  airlock init weather --template python
  airlock call weather hello '{"name":"world"}'

Templates:
  js      WebAssembly component from JavaScript (componentize-js, bundled)
  c       WebAssembly component from C (clang, lld, wasi-libc)
  python  WebAssembly component from Python (componentize-py)
  node    Node.js in a hardened Docker container (Docker)

Options:
  --template <name>  one of ${TEMPLATES.join(', ')} (default js)
  --json             print {dir, name, template, runtime, files, tools, example, missing} as JSON
  -h, --help         show this help`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { template: { type: 'string', short: 't' }, json: { type: 'boolean' } },
    });
    if (positionals.length !== 1) throw new UsageError('expected one plugin name or folder, e.g. `airlock init weather --template js`');
    const template = values.template ?? 'js';
    if (!isTemplate(template)) throw new UsageError(`--template must be one of ${TEMPLATES.join(', ')} (got "${template}")`);
    const result = await initPlugin(positionals[0] as string, { template, cwd: io.cwd });
    if (values.json === true) {
      io.stdout(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    const shown = displayPath(io, result.dir);
    const input = JSON.stringify(result.example.input).replaceAll("'", "'\\''");
    io.stdout(
      `Created ${shown}/ (${result.template}: ${result.description}):\n` +
        result.files.map((f) => `  ${shown}/${f}\n`).join('') +
        `\nTry it:\n  airlock call ${shown} ${result.example.tool} '${input}'\n`,
    );
    for (const m of result.missing) io.stderr(`airlock init: note: building or running it needs ${m}\n`);
    return 0;
  },
};
