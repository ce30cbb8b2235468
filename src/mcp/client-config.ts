/**
 * Configuration for the MCP clients people use (Claude Desktop, Cursor, VS
 * Code), as the JSON each one reads. Pure: the caller gives absolute paths
 * and the token; `airlock mcp-config` prints the result.
 *
 * Over stdio the command is the node binary itself, by absolute path, and the
 * first argument the CLI's entry file: a desktop app starts servers with a
 * bare PATH (often /usr/bin:/bin) and from no particular folder, so neither
 * `airlock` nor `node` on PATH nor a relative path can be relied on.
 */
import { extname, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MCP_CLIENTS = ['claude', 'cursor', 'vscode'] as const;
export type McpClient = (typeof MCP_CLIENTS)[number];

/** Where each client keeps the configuration (for the user's eyes; nothing is written). */
export const CLIENT_CONFIG_FILES: Record<McpClient, string> = {
  claude: 'claude_desktop_config.json (Settings > Developer > Edit Config)',
  cursor: '.cursor/mcp.json in a project, or ~/.cursor/mcp.json',
  vscode: '.vscode/mcp.json in a workspace, or the user profile (MCP: Open User Configuration)',
};

export interface StdioLaunch {
  /** Absolute path of the program (the node binary). */
  command: string;
  args: string[];
}

export interface ClientConfigOptions {
  client: McpClient;
  /** The key the server is listed under (default `airlock`). */
  name?: string;
  /** Exactly one of stdio and http. */
  stdio?: StdioLaunch;
  /**
   * A running `airlock serve --http`. With `token` the header carries it as
   * is; without, each client's own secret mechanism stands in for it (VS Code
   * asks once and keeps it; Cursor reads AIRLOCK_MCP_TOKEN from its environment).
   */
  http?: { url: string; token?: string };
}

/** VS Code's input id for the token it asks for. */
const VSCODE_TOKEN_INPUT = 'airlock-token';
/** The variable Cursor substitutes when no token is given (the same one `airlock serve` reads). */
const CURSOR_TOKEN_ENV = 'AIRLOCK_MCP_TOKEN';

/** The whole configuration file's content for one client: paste it (or merge its one entry) into the file. */
export function clientConfig(options: ClientConfigOptions): Record<string, unknown> {
  const name = options.name ?? 'airlock';
  if ((options.stdio === undefined) === (options.http === undefined)) throw usage('give exactly one of stdio and http');
  if (options.stdio !== undefined) {
    const { command, args } = options.stdio;
    if (!isAbsolute(command)) throw usage(`the command must be an absolute path (got ${command}): a desktop app starts it with its own PATH and folder`);
    const entry = { command, args };
    if (options.client === 'vscode') return { servers: { [name]: { type: 'stdio', ...entry } } };
    return { mcpServers: { [name]: entry } };
  }
  const { url, token } = options.http!;
  if (!/^https?:\/\//.test(url)) throw usage(`the URL must start with http:// or https:// (got ${url})`);
  switch (options.client) {
    case 'claude':
      throw usage(
        'Claude Desktop does not connect to HTTP servers listed in claude_desktop_config.json (remote servers are added under Settings > Connectors); use the stdio configuration (leave out --http)',
      );
    case 'cursor':
      return { mcpServers: { [name]: { url, headers: { Authorization: `Bearer ${token ?? `\${env:${CURSOR_TOKEN_ENV}}`}` } } } };
    case 'vscode': {
      const server = { type: 'http', url, headers: { Authorization: `Bearer ${token ?? `\${input:${VSCODE_TOKEN_INPUT}}`}` } };
      if (token !== undefined) return { servers: { [name]: server } };
      return {
        inputs: [{ type: 'promptString', id: VSCODE_TOKEN_INPUT, description: 'Airlock MCP bearer token (printed by airlock serve --http)', password: true }],
        servers: { [name]: server },
      };
    }
  }
}

/**
 * How to start `airlock serve` on these plugins from anywhere: the running
 * node binary and the CLI entry beside this module, whichever form this is
 * (a checkout's src/cli/main.ts, or an installed package's dist/cli/main.js).
 */
export function airlockServeLaunch(pluginDirs: readonly string[], extra: readonly string[] = [], execPath: string = process.execPath): StdioLaunch {
  for (const dir of pluginDirs) if (!isAbsolute(dir)) throw usage(`plugin paths must be absolute (got ${dir})`);
  return { command: execPath, args: [cliEntry(), 'serve', ...extra, ...pluginDirs] };
}

/** The CLI's entry file: `../cli/main` with this module's own extension (.ts in a checkout, .js once built). */
export function cliEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`../cli/main${extname(self)}`, import.meta.url));
}

/** A configuration that cannot be made: the caller's mistake (the CLI turns it into a usage error). */
export class ClientConfigError extends Error {}

function usage(message: string): ClientConfigError {
  return new ClientConfigError(message);
}
