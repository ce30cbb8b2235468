import { isAirlockError } from '../../errors.ts';
import { auditFromFlags, ENGINE_CHOICES, hostFromFlags, parseFlags, policyFromFlags, timeoutFromFlags } from '../flags.ts';
import { resolvePluginArg } from '../plugins.ts';
import { UsageError, type CliIO, type Command } from '../io.ts';
import type { PluginHost } from '../../host/index.ts';

export const callCommand: Command = {
  name: 'call',
  summary: "Call one of a plugin's tools and print the result",
  help: `Usage: airlock call <plugin-dir|name> <tool> [json | -] [options]

Loads the plugin, calls the tool with the JSON input (an argument, or "-" to
read it from stdin; default {}), and prints the result. The plugin's own
output (stdout/stderr) goes to stderr. A plugin name is looked up in
$AIRLOCK_PATH and ./plugins.

Options:
  --policy <file>   host policy YAML (default: grants nothing beyond safe defaults)
  --lock <file>     lock file (\`airlock lock\`): refuse a plugin it does not pin as it is
  --audit <file>    append the hash-chained audit log to <file> (- for stderr)
  --engine <name>   ${ENGINE_CHOICES}
  --timeout <ms>    shorten the plugin's timeout for this call
  --json            print {ok, value, logs, metrics, usage} or {ok: false, error} as JSON
  -h, --help        show this help

Exit status: 0 on a result, 1 on an error (its code is printed), 2 on a usage error.`,
  async run(argv: string[], io: CliIO): Promise<number> {
    // One call, then the process ends: a standby worker started to replace the one the load adopts would only
    // cost its start (50-90 ms of CPU). An explicit AIRLOCK_WASM_STANDBY still wins.
    process.env.AIRLOCK_WASM_STANDBY ??= '0';
    const { values, positionals } = parseFlags(argv, ['json', 'policy', 'lock', 'engine', 'timeout', 'audit']);
    const [pluginArg, toolArg, inputArg] = positionals;
    if (pluginArg === undefined || toolArg === undefined || positionals.length > 3) {
      throw new UsageError('expected <plugin-dir|name> <tool> [json | -], e.g. `airlock call ./echo echo \'{"text":"hi"}\'`');
    }
    const timeout = timeoutFromFlags(values);
    const text = inputArg === '-' ? await io.stdin() : (inputArg ?? '{}');
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`the input is not JSON (${err instanceof Error ? err.message : String(err)}); quote it for the shell, e.g. '{"city":"Oslo"}'`);
    }
    // The flags are checked before the plugin is looked for (a bad --policy or --audit is not the plugin's
    // error). The worker its load adopts was started before this module loaded (src/cli/main.ts prepare).
    const policy = policyFromFlags(values, io);
    auditFromFlags(values, io);
    let host: PluginHost | undefined;
    try {
      const dir = await resolvePluginArg(pluginArg, io.cwd);
      host = hostFromFlags(values, io, [], policy);
      const plugin = await host.load(dir);
      const name = toolArg.startsWith(`${plugin.name}_`) ? toolArg : `${plugin.name}_${toolArg}`;
      const result = await host.call(name, input, timeout === undefined ? {} : { timeout });
      if (values.json === true) {
        io.stdout(`${JSON.stringify({ ok: true, value: result.value, logs: result.logs, metrics: result.metrics, usage: result.usage })}\n`);
      } else {
        printLogs(io, result.logs);
        io.stdout(`${JSON.stringify(result.value, null, 2)}\n`);
      }
      return 0;
    } catch (err) {
      if (values.json === true && isAirlockError(err)) {
        io.stdout(`${JSON.stringify({ ok: false, error: err.toJSON() })}\n`);
        return 1;
      }
      // What the plugin printed before it failed explains the failure (a traceback, a panic, an assert): shown first.
      if (isAirlockError(err)) printLogs(io, err.details.logs);
      throw err;
    } finally {
      await host?.close();
    }
  },
};

/** The plugin's prints during the call, on stderr (main.ts makes them terminal-safe). */
function printLogs(io: CliIO, logs: unknown): void {
  if (logs === null || typeof logs !== 'object') return;
  for (const stream of ['stdout', 'stderr'] as const) {
    const text = (logs as Record<string, unknown>)[stream];
    if (typeof text === 'string' && text !== '') io.stderr(text.endsWith('\n') ? text : `${text}\n`);
  }
}
