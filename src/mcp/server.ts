/**
 * The MCP server: every tool an agent (or the host) loaded, named
 * `plugin_tool`, over stdio or streamable HTTP, with the official SDK. It only
 * wires the library: listing and calling go through PluginHost/Agent, so
 * input validation, grants and limits are the same as for API callers.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  ErrorCode as RpcErrorCode,
  isInitializeRequest,
  ListToolsRequestSchema,
  type LoggingLevel,
  LoggingLevelSchema,
  McpError,
  SetLevelRequestSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { CallLogs } from '../engines/types.ts';
import { AirlockError, isAirlockError } from '../errors.ts';
import type { ToolInfo } from '../host/catalog.ts';
import type { ToolCallOptions, ToolCallResult } from '../host/types.ts';
import { airlockVersion } from '../version.ts';
import { bearerCheck, generateToken, isLoopbackHost, MIN_TOKEN_LENGTH } from './auth.ts';
import { AnsweringStdioTransport } from './stdio.ts';

/** What the server serves: a PluginHost or one Agent. */
export interface ToolSource {
  tools(): ToolInfo[];
  call(name: string, input: unknown, options?: ToolCallOptions): Promise<ToolCallResult>;
  /**
   * Resolves when `tools()` lists what the source will serve (its manifests read): tools/list and calls
   * wait for it, `initialize` does not. Absent: ready now.
   */
  ready?(): Promise<void>;
}

export interface ServerInfo {
  name?: string;
  version?: string;
}

/** Largest JSON-RPC request body accepted over HTTP. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export function createMcpServer(source: ToolSource, info: ServerInfo = {}): Server {
  const server = new Server(
    { name: info.name ?? 'airlock', version: info.version ?? airlockVersion() },
    { capabilities: { tools: { listChanged: true }, logging: {} } },
  );
  // One Server per session (stdio has one, HTTP one per session), so the level set is this session's.
  let logLevel: LoggingLevel | undefined;
  server.setRequestHandler(SetLevelRequestSchema, (request) => {
    logLevel = request.params.level;
    return {};
  });
  const session: SessionLog = { level: () => logLevel, pending: [] };
  sessionLogs.set(server, session);
  // The server's own messages said before the client finished initializing wait for it (a client reads
  // nothing before its initialize is answered), in the order said; then the level it set by then applies.
  server.oninitialized = () => {
    const pending = session.pending;
    session.pending = undefined;
    for (const m of pending ?? []) void logTo(server, m.level, m.logger, m.data);
  };
  server.setRequestHandler(ListToolsRequestSchema, async () => {
    await source.ready?.();
    return { tools: source.tools().map(toMcpTool) };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name, arguments: args } = request.params;
    // Sent on the call's own stream (HTTP: its SSE response), before its result; a client gone away is not an error here.
    const notify = (notification: Parameters<typeof extra.sendNotification>[0]): Promise<void> => extra.sendNotification(notification).catch(() => undefined);
    const token = request.params._meta?.progressToken;
    // No total: how many steps a plugin's open (a build) takes is not known ahead. Each notification counts one more.
    let step = 0;
    const progress = (message: string): Promise<void> =>
      token === undefined ? Promise.resolve() : notify({ method: 'notifications/progress', params: { progressToken: token, progress: step++, message } });
    await progress(`calling ${name}`);
    try {
      await source.ready?.();
      const result = await source.call(name, args ?? {}, {
        signal: extra.signal,
        // A call waiting for its plugin's build hears each step, so a client can show it (and keep its timeout alive).
        ...(token === undefined ? {} : { onProgress: (s: string) => void progress(s) }),
      });
      await sendLogs(name, result.logs, logLevel, notify);
      const out: CallToolResult = { content: [{ type: 'text', text: result.output }] };
      // Output schemas are objects (the manifest insists), so an object result is the structured one.
      if (result.value !== null && typeof result.value === 'object' && !Array.isArray(result.value)) {
        out.structuredContent = result.value as Record<string, unknown>;
      }
      const logs = result.logs.stdout + result.logs.stderr;
      out._meta = { 'airlock/metrics': result.metrics, 'airlock/usage': result.usage, ...(logs === '' ? {} : { 'airlock/logs': result.logs }) };
      return out;
    } catch (err) {
      const e = isAirlockError(err) ? err : new AirlockError('internal', err instanceof Error ? err.message : String(err), { cause: err });
      // An unknown tool is the client's protocol mistake (MCP spec: a JSON-RPC error).
      if (e.code === 'not-found') throw new McpError(RpcErrorCode.InvalidParams, e.message, { code: e.code });
      // Everything else, invalid input included, is a result the model can read and act on (MCP spec: isError).
      return {
        isError: true,
        content: [{ type: 'text', text: JSON.stringify({ code: e.code, message: e.message, ...(e.problems.length > 0 ? { problems: e.problems } : {}) }) }],
        _meta: { 'airlock/error': { code: e.code, message: e.message, details: jsonSafe(e.details) } },
      };
    } finally {
      await progress(`${name} ended`);
    }
  });
  return server;
}

const SEVERITY = LoggingLevelSchema.options;

/** Whether a message at `level` passes a session's `logging/setLevel` (none set: everything does). */
const shownAt = (level: LoggingLevel, min: LoggingLevel | undefined): boolean => min === undefined || SEVERITY.indexOf(level) >= SEVERITY.indexOf(min);

/**
 * A call's plugin output as `notifications/message`, logger the tool's name:
 * stdout at `info`, stderr at `warning` (what a program writes there is most
 * often a diagnostic), each dropped below the level the client set.
 */
async function sendLogs(
  tool: string,
  logs: CallLogs,
  level: LoggingLevel | undefined,
  notify: (n: { method: 'notifications/message'; params: { level: LoggingLevel; logger: string; data: string } }) => Promise<void>,
): Promise<void> {
  if (logs.stdout !== '' && shownAt('info', level))
    await notify({ method: 'notifications/message', params: { level: 'info', logger: tool, data: logs.stdout } });
  if (logs.stderr !== '' && shownAt('warning', level))
    await notify({ method: 'notifications/message', params: { level: 'warning', logger: tool, data: logs.stderr } });
}

/** Error details as plain JSON (they may hold a cause or other non-serializable values). */
function jsonSafe(value: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function toMcpTool(t: ToolInfo): Tool {
  const { readOnlyHint, openWorldHint, destructiveHint, idempotentHint, title } = t.annotations;
  // Copied field by field: the MCP shape is fixed here, whatever else ToolInfo comes to hold.
  const annotations: NonNullable<Tool['annotations']> = { readOnlyHint, openWorldHint };
  if (destructiveHint !== undefined) annotations.destructiveHint = destructiveHint;
  if (idempotentHint !== undefined) annotations.idempotentHint = idempotentHint;
  const tool: Tool = {
    name: t.name,
    description: t.description,
    inputSchema: t.inputSchema as Tool['inputSchema'],
    annotations,
  };
  // Both places: `title` is what 2025-06 clients show, `annotations.title` what older ones read.
  if (title !== undefined) {
    tool.title = title;
    annotations.title = title;
  }
  if (t.outputSchema !== undefined) tool.outputSchema = t.outputSchema as NonNullable<Tool['outputSchema']>;
  return tool;
}

/** Messages the server sends on its own to one session: its level (logging/setLevel), and those held until it is initialized. */
interface SessionLog {
  level: () => LoggingLevel | undefined;
  /** Undefined once the client has initialized. */
  pending: Array<{ level: LoggingLevel; logger: string; data: string }> | undefined;
}
const sessionLogs = new WeakMap<Server, SessionLog>();
/** Messages held for a client not initialized yet; beyond this the oldest are dropped (each plugin says one, ready or failed). */
const MAX_PENDING_LOGS = 256;

/**
 * A server-side event (a plugin ready or failed) as `notifications/message` to one session, above its level;
 * held until the session is initialized when it is not yet.
 */
export async function logTo(server: Server, level: LoggingLevel, logger: string, data: string): Promise<void> {
  const session = sessionLogs.get(server);
  if (session?.pending !== undefined) {
    session.pending.push({ level, logger, data });
    if (session.pending.length > MAX_PENDING_LOGS) session.pending.shift();
    return;
  }
  if (!shownAt(level, session?.level())) return;
  // A client that is gone has nowhere to receive it.
  await server.sendLoggingMessage({ level, logger, data }).catch(() => undefined);
}

export interface RunningServer {
  /** Tells connected clients the tool list changed (after a reload), so they list it again. */
  toolsChanged(): Promise<void>;
  /** Tells connected clients something the server saw (a plugin ready, or failed to load) as `notifications/message`. */
  log(level: LoggingLevel, logger: string, data: string): Promise<void>;
  close(): Promise<void>;
}

/** Serves over this process's stdin/stdout (nothing else may write to stdout meanwhile). */
export async function serveStdio(source: ToolSource, info: ServerInfo = {}): Promise<RunningServer> {
  const server = createMcpServer(source, info);
  const transport = new AnsweringStdioTransport();
  await server.connect(transport);
  return { toolsChanged: () => server.sendToolListChanged(), log: (level, logger, data) => logTo(server, level, logger, data), close: () => server.close() };
}

export interface HttpOptions extends ServerInfo {
  /** Default 127.0.0.1: the server is for local agents unless you say otherwise. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Default `/mcp`. */
  path?: string;
  /**
   * The bearer token every request must carry (`Authorization: Bearer
   * <token>`); without it a request is answered 401 before anything else is
   * looked at. Default: a fresh random token, in RunningHttpServer.token.
   * `false` turns authentication off: refused unless the server is bound to
   * loopback, and even then any local user can call every tool.
   */
  token?: string | false;
  /**
   * Host names (no port) clients may address the server by, beyond the
   * loopback names and the bound address (for 0.0.0.0 or ::, the machine's
   * interface addresses as well). Needed behind a DNS name. Requests naming
   * any other Host (or a browser Origin on any other host) are refused:
   * DNS-rebinding protection.
   */
  allowedHosts?: string[];
  /**
   * A session with no request for this long after its last one ended, and no
   * request in flight or open notification stream, is closed (clients that vanish without DELETE would otherwise
   * hold theirs forever). Default 30 minutes; 0 never closes one.
   */
  sessionIdleMs?: number;
  /** Sessions open at once; one more is refused with 503 (default 1000). */
  maxSessions?: number;
  /** Called when a session ends: the client said DELETE (or went away), it was idle, or the server closed. */
  onSessionClosed?: (id: string, reason: 'client' | 'idle' | 'server') => void;
  /**
   * How a refused client can fix its request, in the words of whatever runs
   * the server (the CLI names its flags): appended to the refusal of a Host
   * not allowed, and of a missing or wrong token.
   */
  refusalHints?: { host?: string; token?: string };
  /** Each session's server, instead of one serving `source`'s tools (the operator endpoint, ./operator.ts). */
  createServer?: () => Server;
  /** A read-only HTML page served at GET /status, behind the same Host check and token (src/status). */
  statusPage?: { render(): string; csp: string };
}

export interface RunningHttpServer extends RunningServer {
  /** A URL clients can use (for a wildcard bind, an address of this machine's network). */
  url: string;
  /** The bearer token clients must send; undefined when authentication is off. */
  token: string | undefined;
  /** The address and port bound. */
  host: string;
  port: number;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: Server;
  lastSeen: number;
  /** Requests in flight and open GET (notification) streams: a session with one open is not idle, however long a call runs. */
  open: number;
  closing?: 'idle' | 'server';
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Serves streamable HTTP (stateful sessions), bound to loopback by default,
 * with bearer-token authentication and DNS-rebinding protection.
 */
export async function serveHttp(source: ToolSource, options: HttpOptions = {}): Promise<RunningHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/mcp';
  const token = options.token === undefined ? generateToken() : options.token;
  if (token === false && !isLoopbackHost(host)) {
    throw new AirlockError(
      'permission-denied',
      `refusing to serve MCP over HTTP on ${host} without authentication: anyone who can reach it could call every tool with this server's grants; keep the token, or bind to 127.0.0.1`,
    );
  }
  if (token !== false && token.length < MIN_TOKEN_LENGTH)
    throw new AirlockError('invalid-policy', `the MCP bearer token needs at least ${MIN_TOKEN_LENGTH} characters`);
  const authorized = token === false ? () => true : bearerCheck(token);
  const wildcard = host === '0.0.0.0' || host === '::';
  // A wildcard bind answers on every address of the machine: each is a name
  // clients may use (an IP literal cannot be rebound to another site).
  const ownAddresses = wildcard ? interfaceHosts(host === '0.0.0.0' ? 'IPv4' : undefined) : [];
  const shownHost = wildcard ? (ownAddresses[0] ?? '127.0.0.1') : hostForUrl(host);
  const given = (options.allowedHosts ?? []).map((h) => h.toLowerCase());
  const allowed = new Set([...LOOPBACK_NAMES, hostForUrl(host), ...ownAddresses, ...given]);
  // What a refusal names: not the machine's own addresses (the refused client may be a web page).
  const named =
    [...new Set([...LOOPBACK_NAMES, ...(wildcard ? [] : [hostForUrl(host)]), ...given])].join(', ') + (wildcard ? " and this machine's addresses" : '');
  const hints = options.refusalHints ?? {};
  const hostRefusal = (hostHeader: string): string =>
    `Host ${JSON.stringify(hostHeader)} is not allowed (allowed: ${named}${hints.host === undefined ? '' : `; ${hints.host}`})`;
  const tokenRefusal = `missing or wrong bearer token: send Authorization: Bearer <token>${hints.token === undefined ? '' : ` (${hints.token})`}`;
  const sessions = new Map<string, Session>();
  const idleMs = options.sessionIdleMs ?? 30 * 60_000;
  const maxSessions = options.maxSessions ?? 1000;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Checked first, on every request: a page on another site that rebinds its
    // DNS name to this address still sends its own name as Host and Origin.
    const refused = refusedHost(req, allowed, hostRefusal);
    if (refused !== undefined) return reply(res, 403, refused);
    // Before any session lookup or body parse: without the token nothing else is looked at.
    if (!authorized(req)) {
      return reply(res, 401, tokenRefusal, { 'www-authenticate': 'Bearer realm="airlock"' });
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (options.statusPage !== undefined && url.pathname === '/status' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': options.statusPage.csp, 'cache-control': 'no-store' });
      res.end(options.statusPage.render());
      return;
    }
    if (url.pathname !== path) return reply(res, 404, `not found; the MCP endpoint is ${path}`);
    const sessionId = header(req, 'mcp-session-id');
    const existing = sessionId === undefined ? undefined : sessions.get(sessionId);
    if (existing !== undefined) existing.lastSeen = Date.now();
    // Held until the response closes, so the sweep decides on that event, never on how long the request took.
    const hold = (s: Session): void => {
      s.open++;
      res.once('close', () => {
        s.open--;
        s.lastSeen = Date.now();
      });
    };
    if (req.method === 'POST') {
      const body = await readJson(req);
      if (body instanceof Error) return reply(res, 400, body.message, {}, body.cause === 'parse' ? RpcErrorCode.ParseError : -32000);
      if (existing !== undefined) {
        hold(existing);
        return existing.transport.handleRequest(req, res, body);
      }
      if (sessionId !== undefined) return reply(res, 404, 'unknown or expired session; initialize again');
      if (!isInitializeRequest(body)) return reply(res, 400, 'the first request of a session must be initialize');
      if (sessions.size >= maxSessions) return reply(res, 503, `${sessions.size} sessions are open (the limit); close one (DELETE) or retry later`);
      const server = options.createServer?.() ?? createMcpServer(source, options);
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          const session: Session = { transport, server, lastSeen: Date.now(), open: 0 };
          sessions.set(id, session);
          hold(session);
        },
      });
      transport.onclose = () => {
        const id = transport.sessionId;
        const session = id === undefined ? undefined : sessions.get(id);
        if (id === undefined || session === undefined) return;
        sessions.delete(id);
        options.onSessionClosed?.(id, session.closing ?? 'client');
      };
      await server.connect(transport);
      return transport.handleRequest(req, res, body);
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      if (existing === undefined) return reply(res, sessionId === undefined ? 400 : 404, 'missing or unknown mcp-session-id');
      if (req.method === 'GET') hold(existing);
      return existing.transport.handleRequest(req, res);
    }
    res.setHeader('allow', 'GET, POST, DELETE');
    return reply(res, 405, 'method not allowed');
  };

  const http = createHttpServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const closeSession = (s: Session, why: 'idle' | 'server'): Promise<void> => {
    s.closing = why;
    return s.server.close();
  };
  const sweeper =
    idleMs > 0 && Number.isFinite(idleMs)
      ? setInterval(
          () => {
            const now = Date.now();
            for (const s of sessions.values()) if (s.open === 0 && s.closing === undefined && now - s.lastSeen >= idleMs) void closeSession(s, 'idle');
          },
          Math.max(1, Math.min(idleMs, 60_000)),
        )
      : undefined;
  // The sweep alone does not keep the process alive.
  sweeper?.unref();
  return {
    url: `http://${shownHost}:${port}${path}`,
    token: token === false ? undefined : token,
    host,
    port,
    toolsChanged: async () => {
      // A session without an open GET stream has nowhere to receive it; it lists again on its next request anyway.
      await Promise.all([...sessions.values()].map((s) => s.server.sendToolListChanged().catch(() => undefined)));
    },
    log: async (level, logger, data) => {
      await Promise.all([...sessions.values()].map((s) => logTo(s.server, level, logger, data)));
    },
    close: async () => {
      clearInterval(sweeper);
      await Promise.all([...sessions.values()].map((s) => closeSession(s, 'server')));
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** Why a request is refused for its Host or Origin header, or undefined when both are allowed. */
function refusedHost(req: IncomingMessage, allowed: Set<string>, hostRefusal: (hostHeader: string) => string): string | undefined {
  const hostHeader = header(req, 'host');
  if (hostHeader === undefined) return 'missing Host header';
  const hostname = hostnameOf(`http://${hostHeader}`);
  if (hostname === undefined || !allowed.has(hostname)) {
    return hostRefusal(hostHeader);
  }
  const origin = header(req, 'origin');
  // Programs send no Origin; a browser always does (`null` from sandboxed frames, refused too).
  if (origin !== undefined) {
    const originHost = hostnameOf(origin);
    if (originHost === undefined || !allowed.has(originHost)) return `Origin ${JSON.stringify(origin)} is not allowed`;
  }
  return undefined;
}

/** The machine's non-loopback interface addresses as URL host names, IPv4 first. */
function interfaceHosts(family?: 'IPv4'): string[] {
  const found = Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => !a.internal && (family === undefined || a.family === family) && !(a.family === 'IPv6' && a.scopeid !== 0));
  found.sort((a, b) => (a.family === b.family ? 0 : a.family === 'IPv4' ? -1 : 1));
  return found.map((a) => hostForUrl(a.address));
}

function hostForUrl(host: string): string {
  return hostnameOf(`http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}`) ?? host;
}

function hostnameOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code = -32000): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return new Error(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return new Error('Parse error: the request body is not JSON', { cause: 'parse' });
  }
}
