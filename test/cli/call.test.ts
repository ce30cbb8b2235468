import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { runCli } from '../../src/cli/main.ts';
import { cli } from '../helpers/cli.ts';
import { DOCKER } from '../engines/docker/helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** The CLI in a child process, as a desktop app starts it (node by its absolute path: it needs nothing on PATH to start). */
function airlock(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd: ROOT, env, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

interface CallJson {
  ok: boolean;
  value?: unknown;
  logs?: { stdout: string; stderr: string };
  metrics?: { engine: string; durationMs: number; queueMs: number; agentQueueMs: number; totalMs: number };
  error?: { code: string; message: string; problems: Array<{ message: string }> };
}

test('call prints the result for people; the plugin logs go to stderr', async (t) => {
  const sum = await cli(['call', 'fixtures/plugins/echo-c', 'add', '{"a":1,"b":2}'], { cwd: ROOT });
  t.is(sum.code, 0, sum.stderr);
  t.is(sum.stdout, '3\n');
  const printed = await cli(['call', 'fixtures/plugins/state', 'print', '{"x":1}'], { cwd: ROOT });
  t.is(printed.code, 0, printed.stderr);
  t.is(printed.stdout, '"printed"\n');
  t.is(printed.stderr, '{"x":1}\nerr:{"x":1}\n');
});

test('call --json prints {ok, value, logs, metrics}', async (t) => {
  const run = await cli(['call', 'fixtures/plugins/state', 'state_print', '{"x":1}', '--json'], { cwd: ROOT });
  t.is(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout) as CallJson;
  t.true(out.ok);
  t.is(out.value, 'printed');
  t.deepEqual(out.logs, { stdout: '{"x":1}\n', stderr: 'err:{"x":1}\n' });
  t.is(out.metrics?.engine, 'wasm');
  t.is(run.stderr, '');
});

test('call reads the input from stdin with "-", and defaults to {}', async (t) => {
  const piped = await cli(['call', 'fixtures/plugins/echo-c', 'echo', '-'], { cwd: ROOT, stdin: '{"from":"stdin"}' });
  t.is(piped.code, 0, piped.stderr);
  t.deepEqual(JSON.parse(piped.stdout), { from: 'stdin' });
  const empty = await cli(['call', 'fixtures/plugins/echo-c', 'echo'], { cwd: ROOT });
  t.deepEqual(JSON.parse(empty.stdout), {});
});

test('call finds a plugin by name in ./plugins', async (t) => {
  const run = await cli(['call', 'echo-c', 'add', '{"a":2,"b":3}'], { cwd: FIXTURES });
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, '5\n');
});

test('call reports typed errors: exit 1 with the code, or {ok: false, error} with --json', async (t) => {
  const invalid = await cli(['call', 'fixtures/plugins/echo-c', 'add', '{"a":1}'], { cwd: ROOT });
  t.is(invalid.code, 1);
  t.is(invalid.stdout, '');
  t.is(invalid.stderr, "airlock call: invalid-input\necho-c_add: input must have required property 'b'\n");

  const trap = await cli(['call', 'fixtures/plugins/trap', 'boom', '--json'], { cwd: ROOT });
  t.is(trap.code, 1);
  const out = JSON.parse(trap.stdout) as CallJson;
  t.false(out.ok);
  t.is(out.error?.code, 'trap');

  const missing = await cli(['call', 'fixtures/plugins/echo-c', 'nope', '--json'], { cwd: ROOT });
  t.is(missing.code, 1);
  t.is((JSON.parse(missing.stdout) as CallJson).error?.code, 'not-found');

  const timeout = await cli(['call', 'fixtures/plugins/loop', 'spin', '--timeout', '200'], { cwd: ROOT });
  t.is(timeout.code, 1);
  t.regex(timeout.stderr, /^airlock call: timeout: .*200 ms/);

  const nowhere = await cli(['call', 'no-such-plugin', 'x'], { cwd: ROOT });
  t.is(nowhere.code, 1);
  t.regex(nowhere.stderr, /not-found: no plugin folder "no-such-plugin"/);
});

test("call answers from an already-built Python component with a desktop app's PATH, which has no componentize-py", async (t) => {
  const desktop = { ...process.env, PATH: '/usr/bin:/bin' };
  t.false(
    ['/usr/bin', '/bin'].some((d) => existsSync(`${d}/componentize-py`)),
    'the desktop PATH must lack the toolchain for this test to mean anything',
  );
  // Built (or found built) with the full PATH first.
  const build = await airlock(['build', 'fixtures/plugins/echo-py'], process.env);
  t.is(build.code, 0, build.stderr);
  const run = await airlock(['call', 'fixtures/plugins/echo-py', 'add', '{"a":1,"b":2}', '--json'], desktop);
  t.is(run.code, 0, run.stdout + run.stderr);
  t.like(JSON.parse(run.stdout) as CallJson, { ok: true, value: 3 });
});

test('call refuses bad usage with exit 2 and the help', async (t) => {
  const notJson = await cli(['call', 'fixtures/plugins/echo-c', 'echo', '{city:Oslo}'], { cwd: ROOT });
  t.is(notJson.code, 2);
  t.regex(notJson.stderr, /the input is not JSON .*quote it for the shell/);
  t.regex(notJson.stderr, /Usage: airlock call/);
  t.is((await cli(['call', 'fixtures/plugins/echo-c'], { cwd: ROOT })).code, 2);
  t.is((await cli(['call', 'fixtures/plugins/echo-c', 'echo', '--timeout', 'soon'], { cwd: ROOT })).code, 2);
  t.is((await cli(['call', 'fixtures/plugins/echo-c', 'echo', '--engine', 'qemu'], { cwd: ROOT })).code, 2);
});

(DOCKER ? test : test.skip)('on a terminal, call shows Docker build progress on stderr', async (t) => {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['call', 'fixtures/plugins/node-deps', 'echo', '{"tty":true}'], {
    stdout: (x) => (stdout += x),
    stderr: (x) => (stderr += x),
    stdin: async () => '',
    cwd: ROOT,
    isTTY: true,
  });
  t.is(code, 0, stderr);
  t.deepEqual(JSON.parse(stdout), { tty: true });
  t.regex(stderr, /^airlock: node-deps: /m);
});
