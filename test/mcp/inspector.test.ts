/**
 * Airlock's MCP server as the MCP Inspector's CLI sees it (issue 20: real clients): `mcp-inspector-cli`
 * (the `--cli` mode of `npx @modelcontextprotocol/inspector`, from npm as @modelcontextprotocol/inspector-cli)
 * lists the tools and calls them over stdio (it starts `airlock serve`) and over streamable HTTP (to a running
 * `airlock serve --http`, with the bearer token as a header); a tool that fails is an isError result it shows.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { MAIN, startServe } from '../helpers/serve.ts';
import { TRANSPORTS, type Transport } from './python.ts';

const INSPECTOR = join(dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/inspector-cli/package.json')), 'build', 'index.js');
const SERVE = ['serve', '--engine', 'wasm', join(FIXTURES_DIR, 'echo-js'), join(FIXTURES_DIR, 'state')];

/** `mcp-inspector-cli <server> --method …` with these arguments; its stdout as JSON. */
async function inspect(t: ExecutionContext, transport: Transport, method: string[]): Promise<Record<string, unknown>> {
  let server: string[];
  if (transport === 'stdio') server = [process.execPath, MAIN, ...SERVE];
  else {
    const serving = await startServe(t, [...SERVE, '--http', '127.0.0.1:0']);
    server = [serving.url, '--transport', 'http', '--header', `Authorization: Bearer ${serving.token ?? ''}`];
  }
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      [INSPECTOR, ...server, ...method],
      // Its own folder as cwd: the CLI looks for its package.json relative to the cwd, then imports it relative
      // to itself, so it fails from most folders (modelcontextprotocol/inspector#1503, the check from #839).
      // Bounded generously: a busy machine may build components on first use.
      { cwd: dirname(INSPECTOR), timeout: 300_000, maxBuffer: 4 << 20 },
      (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
    ),
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

for (const transport of TRANSPORTS) {
  test(`the MCP Inspector CLI over ${transport} lists every tool with its schema and annotations`, async (t) => {
    const listed = (await inspect(t, transport, ['--method', 'tools/list'])) as {
      tools: Array<{ name: string; inputSchema: { type: string }; annotations?: { readOnlyHint?: boolean } }>;
    };
    t.deepEqual(listed.tools.map((x) => x.name).sort(), [
      'echo-js_add',
      'echo-js_echo',
      'state_boom',
      'state_count',
      'state_fail',
      'state_print',
      'state_spin',
    ]);
    const add = listed.tools.find((x) => x.name === 'echo-js_add');
    t.is(add?.inputSchema.type, 'object');
    t.is(add?.annotations?.readOnlyHint, true);
  });

  test(`the MCP Inspector CLI over ${transport} calls echo-js_add (its key=value arguments typed by the schema) and gets 5; a failing tool is isError`, async (t) => {
    const added = (await inspect(t, transport, ['--method', 'tools/call', '--tool-name', 'echo-js_add', '--tool-arg', 'a=2', 'b=3'])) as {
      content: Array<{ type: string; text: string }>;
      isError?: boolean;
    };
    t.falsy(added.isError);
    t.deepEqual(added.content, [{ type: 'text', text: '5' }]);
    const failed = (await inspect(t, transport, ['--method', 'tools/call', '--tool-name', 'state_fail'])) as {
      content: Array<{ type: string; text: string }>;
      isError?: boolean;
    };
    t.true(failed.isError);
    t.is((JSON.parse(failed.content[0]?.text ?? '{}') as { code?: string }).code, 'plugin-error');
  });
}
