import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ENGINE_NAMES } from '../../engines/types.ts';
import { PluginHost, type EnginePreference } from '../../host/index.ts';
import { watchPlugins } from '../../host/watch.ts';
import { serveHttp, serveStdio, type RunningServer } from '../../mcp/index.ts';
import { engineProvider, resolvePluginArg } from '../plugins.ts';
import { UsageError, type CliIO, type Command } from '../io.ts';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve plugins to agents over MCP (stdio or streamable HTTP)',
  help: `Usage: airlock serve [--mcp] <plugin-dir|name ...> [options]

Serves every tool of the plugins over the Model Context Protocol, named
plugin_tool. Over stdio by default (for MCP clients that start a command);
with --http, over streamable HTTP at http://host:port/mcp, bound to
127.0.0.1 unless a host is given. Tool failures come back as isError
results whose text is {"code", "message"}.

Options:
  --mcp                  the protocol (the default and only one, accepted for clarity)
  --http <[host:]port>   serve streamable HTTP instead of stdio (port 0: any free port)
  --allow-host <name>    another Host name clients may use over HTTP (repeatable;
                         loopback names and the bound address are always allowed)
  --policy <file>        host policy YAML
  --engine <name>        auto (default), ${ENGINE_NAMES.join(', ')}
  --watch                reload a plugin when its files change, and tell clients
  -h, --help             show this help`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        mcp: { type: 'boolean' },
        http: { type: 'string' },
        'allow-host': { type: 'string', multiple: true },
        policy: { type: 'string' },
        engine: { type: 'string' },
        watch: { type: 'boolean' },
      },
    });
    if (positionals.length === 0) throw new UsageError('name at least one plugin to serve, e.g. `airlock serve --mcp ./weather`');
    const engine = (values.engine ?? 'auto') as EnginePreference;
    if (engine !== 'auto' && !(ENGINE_NAMES as readonly string[]).includes(engine)) throw new UsageError(`--engine must be auto or one of ${ENGINE_NAMES.join(', ')}`);
    const http = values.http === undefined ? undefined : /^(?:(.+):)?(\d+)$/.exec(values.http);
    if (http === null) throw new UsageError('--http takes [host:]port, e.g. --http 8080 or --http 127.0.0.1:8080');

    const host = new PluginHost({ policy: values.policy === undefined ? undefined : resolve(io.cwd, values.policy), engine, provider: engineProvider(io) });
    const stopped = new AbortController();
    try {
      for (const p of positionals) await host.load(await resolvePluginArg(p, io.cwd));
      let server: RunningServer;
      if (http !== undefined) {
        const bind = http[1]?.replace(/^\[(.*)\]$/, '$1') ?? '127.0.0.1';
        const running = await serveHttp(host, { host: bind, port: Number(http[2]), allowedHosts: values['allow-host'] ?? [] });
        io.stderr(`airlock: serving ${host.tools().length} tools over MCP at ${running.url}\n`);
        server = running;
      } else {
        server = await serveStdio(host);
        io.stderr(`airlock: serving ${host.tools().length} tools over MCP on stdio\n`);
      }
      if (values.watch === true) {
        watchPlugins(host, {
          signal: stopped.signal,
          onReload: (event) => {
            if ('error' in event) {
              io.stderr(`airlock: reload failed, still serving the previous version: ${event.error.code}: ${event.error.message}\n`);
            } else if (event.changed.length > 0) {
              io.stderr(`airlock: reloaded ${event.changed.join(', ')}\n`);
              // Over stdio the client may be gone already: nothing to tell then.
              server.toolsChanged().catch(() => undefined);
            }
          },
        });
      }
      // Stop on a signal, or (stdio) when the client closes our stdin.
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
        if (http === undefined) process.stdin.once('end', () => resolve());
      });
      stopped.abort();
      await server.close();
      return 0;
    } finally {
      stopped.abort();
      await host.close();
    }
  },
};
