/** Airlock's version comes from package.json in one place (src/version.ts): the CLI and the MCP server report it. */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createMcpServer } from '../src/mcp/index.ts';
import { airlockVersion } from '../src/version.ts';
import { cli } from './helpers/cli.ts';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

test('airlockVersion() is the version in package.json', (t) => {
  t.is(airlockVersion(), PACKAGE_VERSION);
});

test('airlock --version prints the package version', async (t) => {
  const run = await cli(['--version']);
  t.is(run.code, 0);
  t.is(run.stdout, `${PACKAGE_VERSION}\n`);
});

test('the MCP server tells clients the package version unless told another', async (t) => {
  const source = { tools: () => [], call: () => Promise.reject(new Error('no tools')) };
  for (const [info, expected] of [
    [{}, PACKAGE_VERSION],
    [{ version: '9.9.9' }, '9.9.9'],
  ] as const) {
    const server = createMcpServer(source, info);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'version-test', version: '1.0.0' });
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    t.like(client.getServerVersion(), { name: 'airlock', version: expected });
    await client.close();
    await server.close();
  }
});
