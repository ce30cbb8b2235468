/**
 * Airlock's MCP server as the official MCP Python SDK sees it (issue 20: real clients): over stdio, every
 * tool's input and output schema is valid JSON Schema 2020-12 (the dialect a client assumes when a schema
 * names none), and a tool whose manifest uses a draft-07 tuple answers a call whose structured result the
 * SDK itself checks against the tool's output schema.
 *
 * Needs the SDK in a virtualenv (`.ci/setup-toolchain.sh` makes it; AIRLOCK_MCP_PYTHON names another
 * interpreter). Skips loudly without it; fails instead under AIRLOCK_REQUIRE_MCP_PYTHON=1 (CI).
 */
import test from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { tempDir } from '../helpers/plugin.ts';
import { requireExternal } from '../helpers/require.ts';

const cacheRoot = process.env.AIRLOCK_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'airlock');
const PYTHON = process.env.AIRLOCK_MCP_PYTHON ?? join(cacheRoot, 'mcp-python-2', 'bin', 'python');
const probe = spawnSync(PYTHON, ['-c', 'import mcp, jsonschema'], { encoding: 'utf8' });
const HAS_SDK = requireExternal('mcp-python', probe.status === 0, `no MCP Python SDK at ${PYTHON} (run .ci/setup-toolchain.sh)`);
const CLIENT = fileURLToPath(new URL('./clients/python_client.py', import.meta.url));
const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

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

(HAS_SDK ? test : test.skip)(
  'the MCP Python SDK over stdio: every tool schema is valid 2020-12, and a draft-07 tuple tool answers with output the SDK checks',
  async (t) => {
    const plugins = [tuplePlugin(), join(FIXTURES_DIR, 'echo-js'), join(FIXTURES_DIR, 'echo-py'), join(FIXTURES_DIR, 'state')];
    // The C echo returns its input: under the tuple output schema it comes back as structured content.
    const args = [CLIENT, 'tuple_echo', JSON.stringify({ pair: [1, 'a'] }), '--', process.execPath, CLI, 'serve', '--engine', 'wasm', ...plugins];
    const stdout = await new Promise<string>((resolve, reject) =>
      // Bounded generously: a busy machine may build components on first use; nothing here waits on a short window.
      execFile(PYTHON, args, { timeout: 300_000, maxBuffer: 4 << 20 }, (err, out, errOut) =>
        err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out),
      ),
    );
    const report = JSON.parse(stdout) as { server: string; tools: string[]; problems: string[]; isError: boolean; structured: unknown };
    t.is(report.server, 'airlock');
    t.true(report.tools.includes('tuple_echo') && report.tools.includes('state_count') && report.tools.includes('echo-py_add'), report.tools.join(', '));
    t.deepEqual(report.problems, []);
    t.false(report.isError);
    t.deepEqual(report.structured, { pair: [1, 'a'] });
  },
);
