/**
 * The operator endpoint: grant and revoke at run time over MCP, on its own
 * address and token. An agent's session lists none of these tools and its
 * token does not open the operator endpoint; a revoke there refuses the
 * agent's next call; a grant beyond the host policy is refused.
 */
import test from 'ava';
import { mkdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { stringify } from 'yaml';
import { PluginHost } from '../../src/host/index.ts';
import { serveHttp } from '../../src/mcp/index.ts';
import { serveOperator } from '../../src/mcp/operator.ts';
import { tempDir } from '../helpers/plugin.ts';
import { FIXTURES } from '../host/helpers.ts';
import { rawRequest, withToken } from './helpers.ts';

async function connect(t: import('ava').ExecutionContext, url: string, token: string | undefined): Promise<Client> {
  const client = new Client({ name: 'test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), withToken(token)));
  t.teardown(() => client.close());
  return client;
}

const text = (r: unknown): string => ((r as CallToolResult).content[0] as { text: string }).text;

test('operator tools: off the agent session, behind their own token; a revoke refuses the agent next call; a grant stays within the policy', async (t) => {
  const root = tempDir('airlock-operator-');
  const dir = join(root, 'plugin');
  cpSync(join(FIXTURES, 'usage-c'), dir, { recursive: true });
  mkdirSync(join(root, 'data'));
  writeFileSync(join(root, 'data', 'in'), 'hello');
  writeFileSync(
    join(dir, 'plugin.yaml'),
    `${readFileSync(join(dir, 'plugin.yaml'), 'utf8')}\n${stringify({ permissions: { filesystem: [{ path: '../data', mount: '/data', access: 'read' }] } })}`,
  );
  const policy = join(root, 'policy.yaml');
  writeFileSync(policy, stringify({ filesystem: [{ path: './data', access: 'read' }] }));
  const host = new PluginHost({ policy, engine: 'wasm' });
  t.teardown(() => host.close());
  await host.load(dir);
  const agents = await serveHttp(host);
  t.teardown(() => agents.close());
  const operator = await serveOperator(host);
  t.teardown(() => operator.close());
  t.not(operator.token, agents.token);

  const agent = await connect(t, agents.url, agents.token);
  t.false(
    (await agent.listTools()).tools.some((tool) => tool.name.startsWith('airlock_')),
    'the agent session lists no operator tool',
  );
  t.is(text(await agent.callTool({ name: 'usage-c_read', arguments: { path: '/data/in' } })), '"ok:5"');
  t.is((await rawRequest(operator.url, { authorization: `Bearer ${agents.token}` })).status, 401, "the agent's token does not open it");

  const op = await connect(t, operator.url, operator.token);
  t.deepEqual((await op.listTools()).tools.map((tool) => tool.name).sort(), ['airlock_grant', 'airlock_revoke', 'airlock_revoked']);
  const revoked = await op.callTool({ name: 'airlock_revoke', arguments: { plugin: 'usage-c', filesystem: ['./data'] } });
  t.like(JSON.parse(text(revoked)), { action: 'revoke', plugin: 'usage-c', filesystem: ['./data'] });
  const refused = (await agent.callTool({ name: 'usage-c_read', arguments: { path: '/data/in' } })) as CallToolResult;
  t.true(refused.isError);
  t.deepEqual(JSON.parse(text(await op.callTool({ name: 'airlock_revoked', arguments: {} }))), { 'usage-c': { filesystem: ['./data'] } });
  const beyond = (await op.callTool({ name: 'airlock_grant', arguments: { plugin: 'usage-c', network: ['api.example.com'] } })) as CallToolResult;
  t.true(beyond.isError);
  t.like(JSON.parse(text(beyond)), { code: 'permission-denied' });
});
