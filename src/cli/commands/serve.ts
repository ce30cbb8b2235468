import { resolve } from 'node:path';
import { AirlockError, formatProblem, isAirlockError } from '../../errors.ts';
import type { PluginSummary } from '../../host/index.ts';
import { watchPlugins } from '../../host/watch.ts';
import { checkToken, isLoopbackHost, readTokenFile, removeTokenFile, serveHttp, serveStdio, writeTokenFile, type RunningServer } from '../../mcp/index.ts';
import { serveOperator } from '../../mcp/operator.ts';
import { StatusBoard } from '../../status/board.ts';
import { renderStatusPage, STATUS_CSP } from '../../status/page.ts';
import { ENGINE_CHOICES, hostFromFlags, parseFlags } from '../flags.ts';
import { resolvePluginArg } from '../plugins.ts';
import { UsageError, type CliIO, type Command } from '../io.ts';

/** An error on one line: its code, message and problems (file, field, fix). */
function describe(err: unknown): string {
  if (!isAirlockError(err)) return err instanceof Error ? err.message : String(err);
  return [`${err.code}: ${err.message}`, ...err.problems.map(formatProblem)].join('; ');
}

/** How many plugins are still opening, for the "serving" line. */
function loading(plugins: PluginSummary[]): string {
  const n = plugins.filter((p) => p.state === 'loading').length;
  return n === 0 ? '' : ` (${n} plugin${n === 1 ? '' : 's'} loading in the background)`;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve plugins to agents over MCP (stdio or streamable HTTP)',
  help: `Usage: airlock serve [--mcp] <plugin-dir|name ...> [options]

Serves every tool of the plugins over the Model Context Protocol, named
plugin_tool. Over stdio by default (for MCP clients that start a command);
with --http, over streamable HTTP at http://host:port/mcp, bound to
127.0.0.1 unless a host is given. Tool failures come back as isError
results whose text is {"code", "message"}.

Over HTTP every request must carry Authorization: Bearer <token>. The token
is generated at start, printed once here and written (mode 0600, folder 0700)
to $XDG_RUNTIME_DIR/airlock/mcp-<host>-<port>.token (without XDG_RUNTIME_DIR:
<cache>/run/), removed at shutdown. To choose it, use --token-file or the
AIRLOCK_MCP_TOKEN environment variable: there is no --token option, because
a command line is visible to every local user.

The server answers at once: plugins load (build, start) in the background,
and a call waits for its plugin. A plugin that fails to load answers its
calls with the reason; one whose manifest cannot be read is skipped (both
said on stderr).

Options:
  --mcp                  the protocol (the default and only one, accepted for clarity)
  --http <[host:]port>   serve streamable HTTP instead of stdio (port 0: any free port)
  --allow-host <name>    another Host name clients may use over HTTP (repeatable;
                         loopback names, the bound address and, for 0.0.0.0 or ::,
                         this machine's addresses are always allowed)
  --token-file <file>    the bearer token clients must send, read from a file
                         (default: AIRLOCK_MCP_TOKEN, else a generated one)
  --no-auth              no token: any local user can call every tool. Only on a
                         loopback address (refused with a network-facing host)
  --policy <file>        host policy YAML
  --lock <file>          lock file (\`airlock lock\`): refuse a plugin it does not pin as it is
  --audit <file>         append the hash-chained audit log to <file> (- for stderr)
  --engine <name>        ${ENGINE_CHOICES}
  --watch                reload a plugin when its files change, and tell clients
  --operator [host:]port  serve the operator tools (airlock_grant, airlock_revoke,
                         airlock_revoked) at /operator there, with their own token
                         (--operator-token-file f, else generated and printed); off by default
  -h, --help             show this help

Configuring a client (Claude Desktop, Cursor, VS Code): \`airlock mcp-config
--client claude <plugin-dir ...>\` prints the entry to paste, with absolute
paths that work from any folder; \`--http <url> --token-file <file>\` for a
running HTTP server.`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseFlags(argv, ['policy', 'lock', 'engine', 'audit'], {
      mcp: { type: 'boolean' },
      http: { type: 'string' },
      'allow-host': { type: 'string', multiple: true },
      'token-file': { type: 'string' },
      'no-auth': { type: 'boolean' },
      watch: { type: 'boolean' },
      operator: { type: 'string' },
      'operator-token-file': { type: 'string' },
    });
    const operatorAt = values.operator === undefined ? undefined : /^(?:(.+):)?(\d+)$/.exec(values.operator);
    if (operatorAt === null) throw new UsageError('--operator takes [host:]port, e.g. --operator 8081');
    if (values['operator-token-file'] !== undefined && operatorAt === undefined) throw new UsageError('--operator-token-file applies to --operator only');
    if (positionals.length === 0) throw new UsageError('name at least one plugin to serve, e.g. `airlock serve --mcp ./weather`');
    const http = values.http === undefined ? undefined : /^(?:(.+):)?(\d+)$/.exec(values.http);
    if (http === null) throw new UsageError('--http takes [host:]port, e.g. --http 8080 or --http 127.0.0.1:8080');
    const noAuth = values['no-auth'] === true;
    const tokenFile = values['token-file'];
    if (http === undefined && (noAuth || tokenFile !== undefined)) {
      throw new UsageError('--token-file and --no-auth apply to --http only (over stdio only the client that started the server can talk to it)');
    }
    if (noAuth && tokenFile !== undefined) throw new UsageError('--no-auth and --token-file contradict each other; give one');
    const bind = http?.[1]?.replace(/^\[(.*)\]$/, '$1') ?? '127.0.0.1';
    if (noAuth && !isLoopbackHost(bind)) {
      throw new UsageError(
        `--no-auth is only allowed on a loopback address (127.0.0.1, ::1, localhost), not ${bind}: anyone who can reach it could call every tool with this server's files, secrets and network. Drop --no-auth and give clients the token.`,
      );
    }
    let token: string | false | undefined;
    if (noAuth) token = false;
    else if (tokenFile !== undefined) {
      const read = readTokenFile(resolve(io.cwd, tokenFile));
      if (read.warning !== undefined) io.stderr(`airlock: warning: ${read.warning}\n`);
      token = read.token;
    } else if ((process.env.AIRLOCK_MCP_TOKEN ?? '') !== '') token = checkToken(process.env.AIRLOCK_MCP_TOKEN ?? '', 'AIRLOCK_MCP_TOKEN');

    const board = new StatusBoard();
    const host = hostFromFlags(values, io, [board]);
    const stopped = new AbortController();
    let writtenToken: string | undefined;
    let server: RunningServer | undefined;
    let operator: RunningServer | undefined;
    try {
      // The manifests are read now; the engines open in the background, so the
      // server answers initialize at once. A plugin that cannot be read is skipped.
      const toolSet = (): string => JSON.stringify(host.tools());
      let listed = '';
      const settled = (plugin: PluginSummary): void => {
        // Shutting down: a load cut short by closing the host is not a plugin failure to report.
        if (stopped.signal.aborted) return;
        const line =
          plugin.state === 'ready'
            ? `${plugin.name} is ready (${plugin.engine ?? 'engine'}: ${plugin.reason})`
            : `${plugin.name} failed to load, its tools answer this error: ${describe(plugin.error)}`;
        io.stderr(`airlock: ${line}\n`);
        // Clients hear it too (logging capability): a failed plugin is an error they can show.
        server?.log(plugin.state === 'ready' ? 'info' : 'error', 'airlock', line).catch(() => undefined);
        const now = toolSet();
        if (server !== undefined && now !== listed) {
          listed = now;
          // Over stdio the client may be gone already: nothing to tell then.
          server.toolsChanged().catch(() => undefined);
        }
      };
      // Over stdio the client that started us waits for `initialize` (some give up after 5 s): answer it
      // before reading any manifest; tools/list and calls wait until the manifests are read.
      let manifestsRead = (): void => undefined;
      if (http === undefined) {
        const read = new Promise<void>((r) => {
          manifestsRead = r;
        });
        server = await serveStdio({ tools: () => host.tools(), call: (name, input, options) => host.call(name, input, options), ready: () => read });
      }
      let firstError: unknown;
      for (const p of positionals) {
        try {
          await host.load(await resolvePluginArg(p, io.cwd), { background: true, onSettled: settled });
        } catch (err) {
          firstError ??= err;
          io.stderr(`airlock: skipping ${p}: ${describe(err)}\n`);
        }
      }
      manifestsRead();
      // Serving none of the plugins asked for helps nobody: that is the one fatal case.
      if (host.plugins().length === 0) {
        await server?.close();
        throw firstError;
      }
      listed = toolSet();
      if (http !== undefined) {
        const running = await serveHttp(host, {
          host: bind,
          port: Number(http[2]),
          allowedHosts: values['allow-host'] ?? [],
          token,
          refusalHints: { host: 'add more with --allow-host', token: 'airlock serve prints where its token is' },
          statusPage: { render: () => renderStatusPage(host.plugins(), board), csp: STATUS_CSP },
        });
        server = running;
        if (!isLoopbackHost(bind)) {
          io.stderr(
            `airlock: WARNING: listening on ${bind}, not loopback: whoever can reach this machine on port ${running.port} and holds the token can call every tool with this server's grants (its files, secret env vars, network). Keep the token secret; prefer 127.0.0.1 (and an SSH tunnel).\n`,
          );
        }
        if (token === undefined && running.token !== undefined) {
          try {
            writtenToken = writeTokenFile(running.token, running.host, running.port);
          } catch (err) {
            await running.close();
            throw err;
          }
          io.stderr(`airlock: bearer token (shown once; also in ${writtenToken}, mode 0600, removed at shutdown): ${running.token}\n`);
        } else if (token === false) {
          io.stderr('airlock: warning: --no-auth: every local user can call every tool of this server\n');
        }
        io.stderr(`airlock: serving ${host.tools().length} tools over MCP at ${running.url}${loading(host.plugins())}\n`);
      } else {
        io.stderr(`airlock: serving ${host.tools().length} tools over MCP on stdio${loading(host.plugins())}\n`);
      }
      const running = server;
      if (running === undefined) throw new AirlockError('internal', 'serve: no server was started');
      if (operatorAt !== undefined) {
        // Its own address and token: an agent's session never lists these tools.
        const file = values['operator-token-file'];
        const read = file === undefined ? undefined : readTokenFile(resolve(io.cwd, file));
        if (read?.warning !== undefined) io.stderr(`airlock: warning: ${read.warning}\n`);
        const op = await serveOperator(host, {
          host: operatorAt[1]?.replace(/^\[(.*)\]$/, '$1') ?? '127.0.0.1',
          port: Number(operatorAt[2]),
          ...(read === undefined ? {} : { token: read.token }),
          refusalHints: { token: 'the operator token (--operator-token-file, or the one serve printed)' },
        });
        operator = op;
        io.stderr(`airlock: operator tools (grant, revoke) at ${op.url}${read === undefined ? `; operator token (shown once): ${op.token ?? ''}` : ''}\n`);
      }
      if (values.watch === true) {
        watchPlugins(host, {
          signal: stopped.signal,
          onReload: (event) => {
            if ('error' in event) {
              io.stderr(`airlock: reload failed, still serving the previous version: ${event.error.code}: ${event.error.message}\n`);
            } else if (event.changed.length > 0) {
              io.stderr(`airlock: reloaded ${event.changed.join(', ')}\n`);
              running.toolsChanged().catch(() => undefined);
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
      await running.close();
      return 0;
    } finally {
      stopped.abort();
      await operator?.close();
      if (writtenToken !== undefined) removeTokenFile(writtenToken);
      await host.close();
    }
  },
};
