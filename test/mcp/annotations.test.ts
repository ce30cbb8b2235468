/** tools/list as an MCP client reads it: the effective annotations and the author's title. */
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { computeGrants, defaultPolicy } from '../../src/grants/index.ts';
import { toolInfo } from '../../src/host/catalog.ts';
import { createMcpServer, type ToolSource } from '../../src/mcp/index.ts';
import { manifestObject, writePlugin } from '../helpers/plugin.ts';

test('tools/list sends the author title (both places), idempotent and destructive hints, narrowed by the grants', async (t) => {
  const plugin = writePlugin(
    manifestObject({
      name: 'notes',
      tools: [
        { name: 'lookup', description: 'Finds a note', input: { type: 'object' }, annotations: { title: 'Look up a note', idempotent: true } },
        { name: 'remember', description: 'Keeps a note in memory', input: { type: 'object' }, annotations: { readOnly: false, destructive: false } },
        { name: 'plain', description: 'No claims', input: { type: 'object' } },
      ],
    }),
  );
  const grants = computeGrants(plugin, defaultPolicy());
  const source: ToolSource = {
    tools: () => plugin.manifest.tools.map((tool) => toolInfo('notes', tool, grants)),
    call: () => Promise.reject(new Error('not called')),
  };
  const server = createMcpServer(source);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'annotations-test', version: '1.0.0' });
  await client.connect(clientSide);
  t.teardown(() => client.close());

  const byName = new Map((await client.listTools()).tools.map((x) => [x.name, x]));
  t.is(byName.get('notes_lookup')?.title, 'Look up a note');
  t.deepEqual(byName.get('notes_lookup')?.annotations, { readOnlyHint: true, openWorldHint: false, idempotentHint: true, title: 'Look up a note' });
  t.deepEqual(byName.get('notes_remember')?.annotations, { readOnlyHint: false, openWorldHint: false, destructiveHint: false });
  t.is(byName.get('notes_plain')?.title, undefined);
  t.deepEqual(byName.get('notes_plain')?.annotations, { readOnlyHint: true, openWorldHint: false });
});
