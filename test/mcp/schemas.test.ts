/**
 * Tool schemas as an MCP client receives them: JSON Schema 2020-12 (the spec's default dialect), so a client
 * with only a 2020-12 validator can use every one, and it judges values as the server does.
 */
import { readdirSync } from 'node:fs';
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { computeGrants, defaultPolicy } from '../../src/grants/index.ts';
import { type ToolInfo, toolInfo, ToolValidators } from '../../src/host/catalog.ts';
import { loadPlugin, validatePlugin } from '../../src/manifest/index.ts';
import { createMcpServer } from '../../src/mcp/index.ts';
import { makeGrants } from '../helpers/grants.ts';
import { manifestObject, writePlugin } from '../helpers/plugin.ts';
import { fixture } from '../host/helpers.ts';

async function listed(tools: ToolInfo[]) {
  const server = createMcpServer({ tools: () => tools, call: () => Promise.reject(new Error('not called')) });
  const client = new Client({ name: 'schemas-test', version: '1' });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(a), client.connect(b)]);
  const { tools: sent } = await client.listTools();
  await client.close();
  return sent;
}

/** A client's validator: 2020-12 only, checking each schema against the 2020-12 meta-schema. */
const clientAjv = (): Ajv2020 => new Ajv2020({ strict: false, validateSchema: true });

test('every fixture plugin tool schema is valid JSON Schema 2020-12 as sent', async (t) => {
  const tools: ToolInfo[] = [];
  for (const name of readdirSync(fixture('.'))) {
    const checked = validatePlugin(fixture(name));
    if (!checked.ok) continue;
    // Annotations only: the grants do not touch schemas.
    const grants = makeGrants();
    for (const tool of checked.plugin.manifest.tools) tools.push(toolInfo(checked.plugin.manifest.name, tool, grants));
  }
  t.true(tools.length > 40, `only ${tools.length} tools found`);
  const sent = await listed(tools);
  t.is(sent.length, tools.length);
  for (const tool of sent) {
    for (const schema of [tool.inputSchema, tool.outputSchema]) {
      if (schema === undefined) continue;
      const ajv = clientAjv();
      t.true(ajv.validateSchema(schema), `${tool.name}: ${ajv.errorsText(ajv.errors)}`);
      t.notThrows(() => ajv.compile(schema), tool.name);
    }
  }
});

test('a draft-07 tuple is sent as 2020-12 and the client accepts exactly what the server accepts', async (t) => {
  const plugin = writePlugin(
    manifestObject({
      name: 'tuple',
      tools: [
        {
          name: 'at',
          description: 'A point',
          input: {
            type: 'object',
            required: ['p'],
            properties: { p: { type: 'array', items: [{ type: 'number' }, { type: 'number' }], additionalItems: false } },
          },
        },
      ],
    }),
  );
  const tool = loadPlugin(plugin.dir).manifest.tools[0];
  if (tool === undefined) return t.fail('no tool');
  const [sent] = await listed([toolInfo('tuple', tool, computeGrants(plugin, defaultPolicy()))]);
  if (sent === undefined) return t.fail('nothing listed');
  const client = clientAjv().compile(sent.inputSchema);
  const server = new ToolValidators(tool);
  for (const value of [{ p: [1, 2] }, { p: [1] }, { p: [1, 2, 3] }, { p: ['a', 2] }, { p: [] }, {}, { p: 'x' }]) {
    const text = JSON.stringify(value);
    let accepted = true;
    try {
      await server.checkInput('tuple_at', value, text, 10_000);
    } catch {
      accepted = false;
    }
    t.is(client(value), accepted, text);
  }
  t.true(client({ p: [1, 2] }));
  t.false(client({ p: [1, 2, 3] }));
});
