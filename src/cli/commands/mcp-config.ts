import { resolve } from 'node:path';
import { loadPluginOffThread } from '../../manifest/index.ts';
import {
  airlockServeLaunch,
  CLIENT_CONFIG_FILES,
  clientConfig,
  ClientConfigError,
  MCP_CLIENTS,
  readTokenFile,
  type ClientConfigOptions,
  type McpClient,
} from '../../mcp/index.ts';
import { ENGINE_CHOICES, parseFlags, policyFromFlags } from '../flags.ts';
import { resolvePluginArg } from '../plugins.ts';
import { UsageError, type CliIO, type Command } from '../io.ts';

const LABELS: Record<McpClient, string> = { claude: 'Claude Desktop', cursor: 'Cursor', vscode: 'VS Code' };

export const mcpConfigCommand: Command = {
  name: 'mcp-config',
  summary: 'Print the MCP configuration for Claude Desktop, Cursor or VS Code',
  help: `Usage: airlock mcp-config [--client claude|cursor|vscode] <plugin-dir|name ...> [options]
       airlock mcp-config --client cursor|vscode --http <url> [--token-file <file>]

Prints what to paste into an MCP client's configuration so that it runs
these plugins. Over stdio (the default) the client starts
\`airlock serve\` itself: the command is this node binary and the arguments
this install's CLI entry and the plugin folders, all absolute paths, so it
works from any folder and with the bare PATH desktop apps give their servers.
Nothing is written: merge the printed entry into the file named on stderr.

With --http, the entry points at a running \`airlock serve --http\` (give it
the plugins, not this command). --token-file puts that token in the header
(the serve command prints where its generated one is; a generated token
changes at every start, so for a lasting entry serve with --token-file too).
Without it, VS Code asks for the token once and stores it as a secret, and
Cursor reads it from AIRLOCK_MCP_TOKEN in its environment. Claude Desktop
reads only stdio servers from its configuration file.

Options:
  --client <name>      claude, cursor or vscode (default: all three, each
                       under a heading; with a client, plain JSON)
  --http <url>         a running server's URL, e.g. http://127.0.0.1:8080/mcp
  --token-file <file>  the server's bearer token, copied into the header
  --name <key>         the key the server is listed under (default: airlock)
  --policy <file>      host policy YAML, passed to serve (stdio)
  --engine <name>      ${ENGINE_CHOICES}, passed to serve (stdio)
  -h, --help           show this help`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseFlags(argv, ['policy', 'engine'], {
      client: { type: 'string' },
      http: { type: 'string' },
      'token-file': { type: 'string' },
      name: { type: 'string' },
    });
    const clients = values.client === undefined ? [...MCP_CLIENTS] : [values.client];
    for (const c of clients) if (!(MCP_CLIENTS as readonly string[]).includes(c)) throw new UsageError(`--client takes ${MCP_CLIENTS.join(', ')} (got ${c})`);
    const options: Omit<ClientConfigOptions, 'client'> = values.name === undefined ? {} : { name: values.name };

    if (values.http !== undefined) {
      if (positionals.length > 0 || values.policy !== undefined || values.engine !== undefined) {
        throw new UsageError('with --http, plugins, --policy and --engine belong to `airlock serve --http`, which is already running; give only its URL');
      }
      let token: string | undefined;
      if (values['token-file'] !== undefined) {
        const read = readTokenFile(resolve(io.cwd, values['token-file']));
        if (read.warning !== undefined) io.stderr(`airlock: warning: ${read.warning}\n`);
        token = read.token;
        io.stderr('airlock: the configuration below holds the token: keep the file it goes into private (and out of version control)\n');
      }
      // Claude Desktop has no HTTP entry: without --client it is left out, asked for by name it is an error.
      const http = values.client === undefined ? clients.filter((c) => c !== 'claude') : clients;
      if (values.client === undefined) io.stderr('airlock: Claude Desktop is left out: it reads only stdio servers from its configuration file\n');
      return print(
        io,
        http as McpClient[],
        { ...options, http: token === undefined ? { url: values.http } : { url: values.http, token } },
        values.client !== undefined,
      );
    }

    if (values['token-file'] !== undefined) throw new UsageError('--token-file applies to --http only (a stdio server needs no token)');
    if (positionals.length === 0) throw new UsageError('name at least one plugin, e.g. `airlock mcp-config --client claude ./weather`');
    const dirs: string[] = [];
    for (const p of positionals) {
      const dir = await resolvePluginArg(p, io.cwd);
      // A configuration for a plugin that cannot load would only fail later, inside the client.
      await loadPluginOffThread(dir);
      dirs.push(dir);
    }
    const extra: string[] = [];
    if (values.policy !== undefined) {
      policyFromFlags(values, io);
      extra.push('--policy', resolve(io.cwd, values.policy));
    }
    if (values.engine !== undefined) extra.push('--engine', values.engine);
    return print(io, clients as McpClient[], { ...options, stdio: airlockServeLaunch(dirs, extra) }, values.client !== undefined);
  },
};

function print(io: CliIO, clients: McpClient[], options: Omit<ClientConfigOptions, 'client'>, plain: boolean): number {
  let configs: Array<[McpClient, Record<string, unknown>]>;
  try {
    configs = clients.map((client) => [client, clientConfig({ ...options, client })]);
  } catch (err) {
    if (err instanceof ClientConfigError) throw new UsageError(err.message);
    throw err;
  }
  if (plain) {
    const [[client, config]] = configs as [[McpClient, Record<string, unknown>]];
    io.stderr(`airlock: for ${LABELS[client]}, in ${CLIENT_CONFIG_FILES[client]}:\n`);
    io.stdout(`${JSON.stringify(config, null, 2)}\n`);
    return 0;
  }
  io.stdout(configs.map(([client, config]) => `# ${LABELS[client]}: ${CLIENT_CONFIG_FILES[client]}\n${JSON.stringify(config, null, 2)}\n`).join('\n'));
  return 0;
}
