/**
 * Airlock's MCP server as the official MCP Python SDK sees it (issue 20: real clients): over stdio and over
 * streamable HTTP, every tool's input and output schema is valid JSON Schema 2020-12 (the dialect a client assumes when a schema
 * names none), and a tool whose manifest uses a draft-07 tuple answers a call whose structured result the
 * SDK itself checks against the tool's output schema.
 *
 * Needs the SDK in a virtualenv (`.ci/setup-toolchain.sh` makes it; AIRLOCK_MCP_PYTHON names another
 * interpreter). Skips loudly without it; fails instead under AIRLOCK_REQUIRE_MCP_PYTHON=1 (CI).
 */
import test from 'ava';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { tempDir } from '../helpers/plugin.ts';
import { drive, hasPythonClients, TRANSPORTS } from './python.ts';

const HAS_SDK = hasPythonClients('mcp, jsonschema', 'MCP Python SDK');

/** A copy of echo-c whose `echo` tool (it returns its input) has input and output schemas with a draft-07 tuple (`items: [...]`). */
function tuplePlugin(): string {
  const dir = join(tempDir('airlock-pyclient-'), 'tuple');
  cpSync(join(FIXTURES_DIR, 'echo-c'), dir, { recursive: true });
  const tuple =
    '{ type: object, properties: { pair: { type: array, items: [{ type: number }, { type: string }], additionalItems: false } }, required: [pair] }';
  const echo = '  - name: echo\n    description: Returns its input unchanged.\n    input: { type: object }\n';
  const manifest = readFileSync(join(dir, 'plugin.yaml'), 'utf8').replace(/^name: echo-c$/m, 'name: tuple');
  if (!manifest.includes(echo)) throw new Error('echo-c manifest changed: update this test');
  writeFileSync(
    join(dir, 'plugin.yaml'),
    manifest.replace(echo, `  - name: echo\n    description: Returns its input, a number and a string.\n    input: ${tuple}\n    output: ${tuple}\n`),
  );
  return dir;
}

for (const transport of TRANSPORTS) {
  (HAS_SDK ? test : test.skip)(
    `the MCP Python SDK over ${transport}: every tool schema is valid 2020-12, and a draft-07 tuple tool answers with output the SDK checks`,
    async (t) => {
      const plugins = [tuplePlugin(), join(FIXTURES_DIR, 'echo-js'), join(FIXTURES_DIR, 'echo-py'), join(FIXTURES_DIR, 'state')];
      // The C echo returns its input: under the tuple output schema it comes back as structured content.
      const report = (await drive(t, 'python_client', transport, ['serve', '--engine', 'wasm', ...plugins], 'tuple_echo', { pair: [1, 'a'] })) as {
        server: string;
        tools: string[];
        problems: string[];
        isError: boolean;
        structured: unknown;
      };
      t.is(report.server, 'airlock');
      t.true(report.tools.includes('tuple_echo') && report.tools.includes('state_count') && report.tools.includes('echo-py_add'), report.tools.join(', '));
      t.deepEqual(report.problems, []);
      t.false(report.isError);
      t.deepEqual(report.structured, { pair: [1, 'a'] });
    },
  );
}
