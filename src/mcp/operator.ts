/**
 * The operator's MCP endpoint: tools that change grants at run time
 * (`airlock_revoke`, `airlock_grant`, `airlock_revoked`). Off by default; a
 * front end serves it on its own address with its own token, never beside
 * the tools an agent's session lists, so an agent cannot widen its own
 * grants (and a grant is bounded by the host policy anyway).
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode as RpcErrorCode, ListToolsRequestSchema, McpError, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { AirlockError, isAirlockError } from '../errors.ts';
import type { Revocation, Revocations } from '../grants/revoke.ts';
import type { GrantChange } from '../observe/observer.ts';
import { airlockVersion } from '../version.ts';
import { serveHttp, type HttpOptions, type RunningHttpServer } from './server.ts';

/** What the operator endpoint needs of a PluginHost. */
export interface GrantControl {
  grant(plugin: string, what: Revocation): Promise<GrantChange>;
  revoke(plugin: string, what: Revocation): Promise<GrantChange>;
  revoked(): Revocations;
}

const list = (description: string) => ({ type: 'array', items: { type: 'string' }, description });
const CHANGE_INPUT = {
  type: 'object',
  properties: {
    plugin: { type: 'string', description: 'The plugin name' },
    network: list('Allow-list entries, e.g. api.example.com:443'),
    filesystem: list('Folders, relative to the host policy file'),
    env: list('Variable names or PREFIX_*'),
  },
  required: ['plugin'],
  additionalProperties: false,
} as const;

export const OPERATOR_TOOLS: Tool[] = [
  {
    name: 'airlock_revoke',
    description: "Takes permissions away from a plugin from its next call on (recorded in the host policy's revoked: section and the audit log).",
    inputSchema: CHANGE_INPUT as unknown as Tool['inputSchema'],
  },
  {
    name: 'airlock_grant',
    description: 'Gives back permissions revoked from a plugin; never more than the host policy allows.',
    inputSchema: CHANGE_INPUT as unknown as Tool['inputSchema'],
  },
  { name: 'airlock_revoked', description: 'What is revoked now, per plugin.', inputSchema: { type: 'object', properties: {}, additionalProperties: false } },
];

export function createOperatorServer(control: GrantControl): Server {
  const server = new Server({ name: 'airlock-operator', version: airlockVersion() }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: OPERATOR_TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const { name, arguments: args = {} } = request.params;
    try {
      if (name === 'airlock_revoked') return { content: [{ type: 'text', text: JSON.stringify(control.revoked()) }] };
      if (name !== 'airlock_revoke' && name !== 'airlock_grant') throw new McpError(RpcErrorCode.InvalidParams, `no operator tool named ${name}`);
      const { plugin, ...what } = args as { plugin?: unknown } & Revocation;
      if (typeof plugin !== 'string') throw new AirlockError('invalid-input', 'plugin must be a plugin name');
      const change = name === 'airlock_revoke' ? await control.revoke(plugin, what) : await control.grant(plugin, what);
      return { content: [{ type: 'text', text: JSON.stringify(change) }] };
    } catch (err) {
      if (err instanceof McpError) throw err;
      const e = isAirlockError(err) ? err : new AirlockError('internal', err instanceof Error ? err.message : String(err));
      return { isError: true, content: [{ type: 'text', text: JSON.stringify({ code: e.code, message: e.message }) }] };
    }
  });
  return server;
}

/** Serves the operator tools over streamable HTTP at `/operator` (its own token, generated unless given). */
export function serveOperator(control: GrantControl, options: Omit<HttpOptions, 'createServer'> = {}): Promise<RunningHttpServer> {
  const none = { tools: () => [], call: () => Promise.reject(new AirlockError('not-found', 'no agent tools here')) };
  return serveHttp(none, { path: '/operator', ...options, createServer: () => createOperatorServer(control) });
}
