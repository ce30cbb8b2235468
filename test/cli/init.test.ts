/**
 * `airlock init` then `airlock call`, as a user would type them: each
 * template must validate, build and answer its example call as created.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { TEMPLATES, type InitResult } from '../../src/init/index.ts';
import { cli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/plugin.ts';
import { DOCKER } from '../engines/docker/helpers.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/**
 * The CLI in a child process, as a user runs it. (Also needed: componentize-js
 * hands the build's process.stdout to a child, which a test worker thread's
 * stdout cannot be.)
 */
function airlock(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd, env, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

interface CallJson {
  ok: boolean;
  value?: unknown;
  error?: { code: string; message: string };
  metrics?: { engine: string };
}

async function initAndCall(t: import('ava').ExecutionContext, template: string, engine: string): Promise<void> {
  const cwd = tempDir('airlock-init-');
  // A fixed name: the build cache is keyed by content, so reruns reuse the first build.
  const name = `hello-${template}`;
  const init = await airlock(['init', name, '--template', template, '--json'], cwd);
  t.is(init.code, 0, init.stderr);
  const created = JSON.parse(init.stdout) as InitResult;
  t.is(created.name, name);
  t.is(created.dir, join(cwd, name));
  t.true(created.files.includes('plugin.yaml'));
  t.deepEqual(created.tools, ['hello']);
  t.deepEqual(created.missing, [], 'this machine has what the template needs');

  const validate = await airlock(['validate', name], cwd);
  t.is(validate.code, 0, validate.stdout + validate.stderr);

  const { tool, input } = created.example;
  const call = await airlock(['call', name, tool, JSON.stringify(input), '--json'], cwd);
  t.is(call.code, 0, call.stdout + call.stderr);
  const result = JSON.parse(call.stdout) as CallJson;
  t.deepEqual(result.value, { greeting: 'Hello, world!' });
  t.is(result.metrics?.engine, engine);

  // The human form prints the value, and the scaffold's own check of its input still holds.
  const human = await airlock(['call', name, 'hello', '{"name":"Ada"}'], cwd);
  t.is(human.code, 0, human.stderr);
  t.deepEqual(JSON.parse(human.stdout), { greeting: 'Hello, Ada!' });
  const refused = await airlock(['call', name, 'hello', '{"who":"Ada"}', '--json'], cwd);
  t.is(refused.code, 1);
  t.is((JSON.parse(refused.stdout) as CallJson).error?.code, 'invalid-input');
}

for (const template of ['js', 'c', 'python', 'rust'] as const) {
  test(`init --template ${template}, then call: a wasm plugin that works as created`, async (t) => {
    // The rust template's first build compiles wit-bindgen and serde_json (minutes on a busy machine); later runs hit the cache.
    t.timeout(15 * 60_000);
    await initAndCall(t, template, 'wasm');
  });
}

for (const template of ['node', 'python-docker'] as const) {
  (DOCKER ? test : test.skip)(`init --template ${template}, then call: a Docker plugin that works as created`, async (t) => {
    t.timeout(10 * 60_000);
    await initAndCall(t, template, 'docker');
  });
}

test('every template is covered above', (t) => {
  t.deepEqual([...TEMPLATES].sort(), ['c', 'js', 'node', 'python', 'python-docker', 'rust']);
});

test('init prints the files and the call to try', async (t) => {
  const cwd = tempDir('airlock-init-');
  const run = await cli(['init', 'plugins/weather', '--template', 'c'], { cwd });
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^Created plugins\/weather\/ \(c: /);
  t.regex(run.stdout, /plugins\/weather\/plugin\.c\n/);
  t.regex(run.stdout, /airlock call plugins\/weather hello '\{"name":"world"\}'/);
  t.regex(readFileSync(join(cwd, 'plugins/weather/plugin.yaml'), 'utf8'), /^name: weather$/m);
  t.false(existsSync(join(cwd, 'plugins/weather/template.json')));
});

test('init refuses a bad name, an unknown template and a folder in use', async (t) => {
  const cwd = tempDir('airlock-init-');
  const badName = await cli(['init', 'My_Plugin'], { cwd });
  t.is(badName.code, 1);
  t.regex(badName.stderr, /invalid-input: "My_Plugin" cannot name a plugin: use a lowercase DNS label .*e\.g\. "my-plugin"/);
  t.false(existsSync(join(cwd, 'My_Plugin')));

  const badTemplate = await cli(['init', 'ok', '--template', 'cobol'], { cwd });
  t.is(badTemplate.code, 2);
  t.regex(badTemplate.stderr, /--template must be one of js, c, python, node, rust, python-docker/);

  mkdirSync(join(cwd, 'taken'));
  writeFileSync(join(cwd, 'taken', 'notes.txt'), 'mine');
  const taken = await cli(['init', 'taken', '--json'], { cwd });
  t.is(taken.code, 1);
  t.regex(taken.stderr, /conflict: .*taken already exists and is not an empty folder/);
  t.is(readFileSync(join(cwd, 'taken', 'notes.txt'), 'utf8'), 'mine');

  mkdirSync(join(cwd, 'empty'));
  t.is((await cli(['init', 'empty'], { cwd })).code, 0, 'an empty folder is fine');
});

test('init names what the machine lacks to build the plugin, and creates it anyway', async (t) => {
  const cwd = tempDir('airlock-init-');
  // Only Node itself on PATH: no clang, no componentize-py.
  const env = { ...process.env, PATH: dirname(process.execPath) };
  const c = await airlock(['init', 'needs-clang', '--template', 'c'], cwd, env);
  t.is(c.code, 0, c.stderr);
  t.regex(c.stderr, /^airlock init: note: building or running it needs clang, lld and wasi-libc \(Debian: apt-get install /m);
  t.true(existsSync(join(cwd, 'needs-clang', 'plugin.c')));
  const py = await airlock(['init', 'needs-py', '--template', 'python', '--json'], cwd, env);
  t.deepEqual((JSON.parse(py.stdout) as InitResult).missing, ['componentize-py (pip install componentize-py)']);
  const rust = await airlock(['init', 'needs-rust', '--template', 'rust', '--json'], cwd, env);
  t.regex(
    (JSON.parse(rust.stdout) as InitResult).missing[0] ?? '',
    /^Rust and its wasm32-wasip2 target \(https:\/\/rustup\.rs, then rustup target add wasm32-wasip2\)$/,
  );
  const js = await airlock(['init', 'needs-nothing', '--template', 'js'], cwd, env);
  t.is(js.stderr, '');
});
