import { parseArgs } from 'node:util';
import { PluginHost } from '../../host/index.ts';
import { serveHttp, serveStdio } from '../../mcp/index.ts';
import { resolvePluginArg } from '../plugins.ts';
import { UsageError, type CliIO, type Command } from '../io.ts';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve plugins to agents over MCP (stdio or streamable HTTP)',
  help: `Usage: airlock serve <plugin-dir|name ...> [--mcp] [--http [host:]port] [--policy file]

Serves every tool of the plugins over the Model Context Protocol, named
plugin_tool. Over stdio by default (for MCP clients that start a command);
with --http, over streamable HTTP at http://host:port/mcp, bound to
127.0.0.1 unless a host is given.

Options:
  --mcp               the protocol (the default and only one, accepted for clarity)
  --http <[host:]port> serve streamable HTTP instead of stdio
  --policy <file>     host policy YAML
  -h, --help          show this help`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { mcp: { type: 'boolean' }, http: { type: 'string' }, policy: { type: 'string' } },
    });
    if (positionals.length === 0) throw new UsageError('name at least one plugin to serve');
    const host = new PluginHost({ policy: values.policy });
    for (const p of positionals) await host.load(resolvePluginArg(p, io.cwd));
    // Stop on a signal, or (stdio) when the client closes our stdin.
    const stop = new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
      if (values.http === undefined) process.stdin.once('end', () => resolve());
    });
    let server;
    if (values.http !== undefined) {
      const m = /^(?:(.+):)?(\d+)$/.exec(values.http);
      if (m === null) throw new UsageError('--http takes [host:]port, e.g. --http 8080 or --http 127.0.0.1:8080');
      server = await serveHttp(host, { host: m[1] ?? '127.0.0.1', port: Number(m[2]) });
      io.stderr(`airlock: serving ${host.tools().length} tools over MCP at ${server.url}\n`);
    } else {
      server = await serveStdio(host);
      io.stderr(`airlock: serving ${host.tools().length} tools over MCP on stdio\n`);
    }
    await stop;
    await server.close();
    await host.close();
    return 0;
  },
};
