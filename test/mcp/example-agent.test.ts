/**
 * The example agent (fixtures/agents/example-agent.ts) run as a program, as a
 * user would: it starts `airlock serve --mcp` itself, lists the tools and
 * works through its script over MCP.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { Turn } from '../../fixtures/agents/example-agent.ts';
import { DOCKER } from '../engines/docker/helpers.ts';
import { tempDir } from '../helpers/plugin.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const AGENT = fileURLToPath(new URL('../../fixtures/agents/example-agent.ts', import.meta.url));

function runAgent(args: string[]): Promise<{ code: number; turns: Turn[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [AGENT, '--json', ...args], { cwd: ROOT, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      const turns = stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Turn);
      resolve({ code, turns, stderr });
    });
  });
}

test('the example agent calls a wasm plugin over MCP and recovers from its own invalid input', async (t) => {
  const run = await runAgent(['fixtures/plugins/echo-c']);
  t.is(run.code, 0, run.stderr);
  t.deepEqual(
    run.turns.map((x) => [x.tool, x.ok, x.error?.code ?? x.engine, x.retry === true]),
    [
      ['echo-c_add', false, 'invalid-input', false],
      ['echo-c_add', true, 'wasm', true],
      ['echo-c_echo', true, 'wasm', false],
      [null, false, 'no-tool', false],
    ],
  );
  t.is(run.turns[1]?.value, 5);
  t.deepEqual(run.turns[2]?.value, { note: 'hello from the agent' });
});

test('the example agent joins a running `airlock serve --http` with the token file it printed', async (t) => {
  const child = spawn(process.execPath, ['src/cli/main.ts', 'serve', '--http', '0', 'fixtures/plugins/echo-c'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, XDG_RUNTIME_DIR: tempDir('airlock-run-') },
  });
  t.teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  const [url, tokenFile] = await new Promise<[string, string]>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /also in (\S+), mode 0600[\s\S]*serving \d+ tools over MCP at (\S+)/.exec(stderr);
      if (m?.[1] !== undefined && m[2] !== undefined) resolve([m[2], m[1]]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
  });
  const refused = await runAgent(['--url', url]);
  t.not(refused.code, 0);
  t.regex(refused.stderr, /missing or wrong bearer token/);
  const run = await runAgent(['--url', url, '--token-file', tokenFile]);
  t.is(run.code, 0, run.stderr);
  t.deepEqual(
    run.turns.filter((x) => x.ok).map((x) => x.tool),
    ['echo-c_add', 'echo-c_echo'],
  );
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
});

(DOCKER ? test : test.skip)('the example agent calls a wasm and a Docker plugin in one session', async (t) => {
  const run = await runAgent(['fixtures/plugins/echo-c', 'fixtures/plugins/node-deps']);
  t.is(run.code, 0, run.stderr);
  const byTool = new Map(run.turns.filter((x) => x.ok).map((x) => [x.tool, x]));
  t.is(byTool.get('echo-c_add')?.engine, 'wasm');
  t.is(byTool.get('echo-c_add')?.value, 5);
  const docker = byTool.get('node-deps_duration');
  t.is(docker?.engine, 'docker');
  t.deepEqual(docker?.value, { ms: 2 * 60 * 60 * 1000 });
});
