import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { cli } from '../helpers/cli.ts';
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
  const plugin = writePlugin(manifestObject({ permissions: { network: { allow: ['api.example.com:443'] }, filesystem: [{ path: '.', mount: '/work' }], env: ['TOKEN'] } }), { 'main.py': '' }, dir);
  writeFileSync(join(dir, 'policy.yaml'), `network:\n  allow: ["*.example.com"]\nfilesystem:\n  - path: ${dir}\nenv: [TOKEN]\n`);
  const run = await cli(['inspect', plugin.dir, '--policy', join(dir, 'policy.yaml'), '--json']);
  t.is(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { grants: { network: unknown; filesystem: { mount: string; access: string }[] } };
  t.deepEqual(out.grants.network, { allow: [{ host: 'api.example.com', wildcard: false, port: 443 }] });
  t.like(out.grants.filesystem[0], { mount: '/work', access: 'read' });
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
