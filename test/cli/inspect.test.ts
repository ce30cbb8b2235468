import test from 'ava';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { cli } from '../helpers/cli.ts';
import { withEnv } from '../helpers/env.ts';
import { manifestObject, tempDir, writePlugin } from '../helpers/plugin.ts';

const fixtures = new URL('../../fixtures/manifests/', import.meta.url).pathname;

test('inspect: tools, runtime with its reason, and the grants under the default policy', async (t) => {
  const run = await cli(['inspect', join(fixtures, 'valid', 'python-detected')]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /runtime {4}python \(detected: requirements\.txt found beside plugin\.yaml\)/);
  t.regex(run.stdout, /network {5}none/);
  t.regex(run.stdout, /limits {6}memory 128Mi, cpu 1, timeout 10s, concurrency 1/);
});

test('inspect: refusals under the default policy list each permission and exit 1', async (t) => {
  const run = await cli(['inspect', join(fixtures, 'valid', 'python-full')]);
  t.is(run.code, 1);
  t.regex(run.stderr, /permission-denied: plugin "weather" asks for 9 permission\(s\)/);
  t.regex(run.stderr, /plugin\.yaml:\d+:\d+: permissions\.network\.allow\[0\]: network access to "api\.weather\.example"/);
  t.regex(run.stderr, /permissions\.env\[1\]: environment variable WEATHER_UNITS is not allowed/);
});

test('inspect --policy: a policy that allows the request grants it', async (t) => {
  const dir = tempDir();
  const plugin = writePlugin(
    manifestObject({ permissions: { network: { allow: ['api.example.com:443'] }, filesystem: [{ path: '.', mount: '/work' }], env: ['TOKEN'] } }),
    { 'main.py': '' },
    dir,
  );
  writeFileSync(join(dir, 'policy.yaml'), `network:\n  allow: ["*.example.com"]\nfilesystem:\n  - path: ${dir}\nenv: [TOKEN]\n`);
  const run = await cli(['inspect', plugin.dir, '--policy', join(dir, 'policy.yaml'), '--json']);
  t.is(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { grants: { network: unknown; filesystem: { mount: string; access: string }[] } };
  t.deepEqual(out.grants.network, { allow: [{ host: 'api.example.com', wildcard: false, port: 443 }] });
  t.like(out.grants.filesystem[0], { mount: '/work', access: 'read' });
});

test("inspect --policy: the policy's idle period is shown beside the isolation (a plugin's own entry wins over '*')", async (t) => {
  const dir = tempDir();
  const plugin = writePlugin(manifestObject(), { 'main.py': '' }, dir);
  writeFileSync(join(dir, 'policy.yaml'), `idle: { "*": 10m, ${plugin.manifest.name}: 30s }\n`);
  const run = await cli(['inspect', plugin.dir, '--policy', join(dir, 'policy.yaml')]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /isolation {3}pooled, idle instances stopped after 30s \(host policy idle\)/);
});

test('inspect: an invalid policy file is reported with positions', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'policy.yaml'), 'netwrk: {}\n');
  const run = await cli(['inspect', join(fixtures, 'valid', 'wasm-minimal'), '--policy', join(dir, 'policy.yaml')]);
  t.is(run.code, 1);
  t.regex(run.stderr, /policy\.yaml:1:1: netwrk: unknown field "netwrk" \(fix: did you mean "network"\?\)/);
});

test('schema: prints a JSON Schema that ajv compiles, for plugin.yaml and for the policy', async (t) => {
  for (const args of [['schema'], ['schema', '--policy']]) {
    const run = await cli(args);
    t.is(run.code, 0);
    const schema = JSON.parse(run.stdout) as Record<string, unknown>;
    t.notThrows(() => new Ajv({ strict: false }).compile(schema));
  }
  const manifest = JSON.parse((await cli(['schema'])).stdout) as { properties: Record<string, { description?: string }>; additionalProperties: boolean };
  t.false(manifest.additionalProperties, 'unknown fields are rejected by the JSON Schema too');
  t.truthy(manifest.properties.entry?.description);
});

// ---- engine selection (issue 5): which engine and why, and forcing one ----

const plugins = new URL('../../fixtures/plugins/', import.meta.url).pathname;

/** A stand-in wasmtime that only answers --version: the selector needs its probe, not a run. */
function fakeWasmtime(): string {
  const dir = tempDir();
  const bin = join(dir, 'wasmtime');
  writeFileSync(bin, '#!/bin/sh\necho "wasmtime 48.0.8 (fake for tests)"\n', { mode: 0o755 });
  return bin;
}

test.serial('inspect: a wasm plugin runs on the worker engine, and says why', async (t) => {
  const run = await cli(['inspect', join(plugins, 'third-party')]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /engine {5}wasm \(the worker engine has the lowest latency for components; engine: auto\)/);
  const json = JSON.parse((await cli(['inspect', join(plugins, 'third-party'), '--json'])).stdout) as {
    engine: { engine: string; reason: string; choice: string };
  };
  t.like(json.engine, { engine: 'wasm', choice: 'auto' });
});

test.serial('inspect --engine wasmtime: forcing a missing engine is engine-unavailable with the install hint', async (t) => {
  const run = await withEnv({ AIRLOCK_WASMTIME: join(tempDir(), 'no-such-wasmtime') }, () =>
    cli(['inspect', join(plugins, 'third-party'), '--engine', 'wasmtime']),
  );
  t.is(run.code, 1);
  t.regex(run.stderr, /engine-unavailable: plugin third-party is configured with engine: wasmtime .*the wasmtime engine is unavailable/);
  t.regex(run.stderr, /install the wasmtime CLI: `\.ci\/install-wasmtime\.sh`/);
});

test.serial(
  'inspect --engine wasmtime: an available wasmtime runs the plugin, with no fallback; a read-only grant fails engine-unavailable with the refusal, never the worker engine instead',
  async (t) => {
    const bin = fakeWasmtime();
    const forced = await withEnv({ AIRLOCK_WASMTIME: bin }, () => cli(['inspect', join(plugins, 'third-party'), '--engine', 'wasmtime']));
    t.is(forced.code, 0, forced.stderr);
    t.regex(forced.stdout, /engine {5}wasmtime \(plugin third-party is configured with engine: wasmtime/);
    t.notRegex(forced.stdout, /fallback/);

    const dir = tempDir();
    writeFileSync(join(dir, 'plugin.wasm'), readFileSync(join(plugins, 'third-party', 'plugin.wasm')));
    mkdirSync(join(dir, 'data'));
    const plugin = writePlugin(
      manifestObject({ name: 'reader', runtime: 'wasm', entry: 'plugin.wasm', permissions: { filesystem: [{ path: 'data', mount: '/data' }] } }),
      {},
      dir,
    );
    writeFileSync(join(dir, 'policy.yaml'), `filesystem:\n  - path: ${dir}\n`);
    const ro = await withEnv({ AIRLOCK_WASMTIME: bin }, () => cli(['inspect', plugin.dir, '--engine', 'wasmtime', '--policy', join(dir, 'policy.yaml')]));
    t.not(ro.code, 0);
    t.regex(
      `${ro.stdout}${ro.stderr}`,
      /engine-unavailable: plugin reader is configured with engine: wasmtime.*the wasmtime engine refuses this plugin's grants: filesystem: .*read-only.*wasmtime#9608/,
    );
    t.notRegex(ro.stdout, /engine {5}wasm /);
  },
);

test.serial('inspect: a node/python plugin needs Docker; forcing it without Docker is engine-unavailable with the install hint', async (t) => {
  const env = { DOCKER_HOST: `unix://${join(tempDir(), 'no-docker.sock')}` };
  const auto = await withEnv(env, () => cli(['inspect', join(fixtures, 'valid', 'python-detected')]));
  t.is(auto.code, 0, auto.stderr);
  t.regex(auto.stdout, /engine {5}none: engine-unavailable: python plugin py-detected needs Docker/);
  const forced = await withEnv(env, () => cli(['inspect', join(fixtures, 'valid', 'python-detected'), '--engine', 'docker']));
  t.is(forced.code, 1);
  t.regex(forced.stderr, /engine-unavailable: .*the docker engine is unavailable.*install Docker and start its daemon/);
});

test.serial('inspect --engine docker on a wasm plugin is engine-unavailable: Docker runs node and python plugins', async (t) => {
  const run = await cli(['inspect', join(plugins, 'third-party'), '--engine', 'docker']);
  t.is(run.code, 1);
  t.regex(run.stderr, /engine-unavailable: .*Docker runs node and python plugins; third-party is a wasm plugin/);
});

test('inspect --engine rejects an unknown engine name', async (t) => {
  const run = await cli(['inspect', join(plugins, 'third-party'), '--engine', 'podman']);
  t.is(run.code, 2);
  t.regex(run.stderr, /--engine must be auto or one of wasm, wasmtime, docker/);
});

test('inspect resolves the plugin folder and --policy against the directory it is run from', async (t) => {
  const dir = tempDir();
  writePlugin(manifestObject({ name: 'here', permissions: { env: ['HOME'] } }), { 'main.py': '' }, join(dir, 'here'));
  writeFileSync(join(dir, 'policy.yaml'), 'env: [HOME]\n');
  const run = await cli(['inspect', 'here', '--policy', 'policy.yaml', '--json'], { cwd: dir });
  t.is(run.code, 0, run.stderr);
  t.is((JSON.parse(run.stdout) as { name: string }).name, 'here');
});

// ---- hunt (hostile data) ----
/** A python plugin whose entry file name and filesystem path hold newlines spelling grant lines that are not its own. */
function forgingPlugin(): string {
  const dir = join(tempDir(), 'forge');
  const fake = '\n  grants under the default policy\n    network     none\n    filesystem  none\n';
  mkdirSync(join(dir, `d${fake}`), { recursive: true });
  writeFileSync(join(dir, `m${fake}.py`), 'def echo(x):\n    return x\n');
  writeFileSync(
    join(dir, 'plugin.yaml'),
    `apiVersion: airlock/v1\nname: forge\nversion: 1.0.0\nruntime: python\nentry: ${JSON.stringify(`m${fake}.py`)}\npermissions:\n  network: { allow: [api.example.com] }\n  filesystem:\n    - { path: ${JSON.stringify(`./d${fake}`)}, mount: /data }\ntools:\n  - { name: echo, description: Echo., input: { type: object } }\n`,
  );
  return dir;
}

test('inspect: newlines in an entry file name or a filesystem path cannot forge grant lines; each value stays on its line, escaped', async (t) => {
  const dir = forgingPlugin();
  const policy = join(tempDir(), 'policy.yaml');
  writeFileSync(policy, `network:\n  allow: [api.example.com]\nfilesystem:\n  - { path: ${JSON.stringify(dir)} }\n`);
  const run = await cli(['inspect', dir, '--policy', policy]);
  t.is(run.code, 0, run.stderr);
  t.is((run.stdout.match(/^ +network /gm) ?? []).length, 1, run.stdout);
  t.is((run.stdout.match(/^ +grants under/gm) ?? []).length, 1, run.stdout);
  t.regex(run.stdout, /^ {2}entry {6}m\\u000a {2}grants under the default policy\\u000a/m);
  t.regex(run.stdout, /^ {4}filesystem {2}\/data <- .*\/d\\u000a {2}grants under/m);
});

test('inspect: a refusal quoting a filesystem path with newlines keeps each problem on one line', async (t) => {
  const run = await cli(['inspect', forgingPlugin()]);
  t.is(run.code, 1);
  t.false(/^ +network {5}none/m.test(run.stderr), run.stderr);
  t.regex(run.stderr, /permissions\.filesystem\[0\]\.path: "\.\/d\\n {2}grants under the default policy\\n/);
});
