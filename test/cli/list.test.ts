import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { cli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/plugin.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'fixtures/plugins');

interface ListJson {
  plugins: Array<{ name: string; version: string; dir: string; engine: string; reason: string; tools: string[] }>;
  tools: Array<{ name: string; plugin: string; tool: string; inputSchema: object; annotations: object }>;
  failed: Array<{ dir: string; error: { code: string } }>;
}

test('list shows each plugin, its engine and why, and its tools as agents see them', async (t) => {
  const run = await cli(['list', 'fixtures/plugins/echo-c', 'fixtures/plugins/trap'], { cwd: ROOT });
  t.is(run.code, 0, run.stderr);
  t.regex(
    run.stdout,
    /^echo-c 0\.1\.0 {2}fixtures\/plugins\/echo-c {2}engine: wasm \(.+\)\n {2}echo-c_echo {2}Returns its input unchanged\.\n {2}echo-c_add {2}Adds a and b\.\ntrap 0\.1\.0 /,
  );
});

test('list --json gives plugins, tools with schemas, and failures', async (t) => {
  const run = await cli(['list', 'fixtures/plugins/echo-c', '--json'], { cwd: ROOT });
  t.is(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout) as ListJson;
  t.like(out.plugins[0], { name: 'echo-c', version: '0.1.0', engine: 'wasm', tools: ['echo-c_echo', 'echo-c_add'] });
  t.false('grants' in (out.plugins[0] ?? {}), 'grants hold env values: not printed');
  t.deepEqual(
    out.tools.map((x) => x.name),
    ['echo-c_echo', 'echo-c_add'],
  );
  t.deepEqual(out.tools[1]?.annotations, { readOnlyHint: true, openWorldHint: false });
  t.deepEqual(out.failed, []);
});

test('list with no arguments finds the plugins under ./plugins and reports the ones that cannot load', async (t) => {
  const cwd = tempDir('airlock-list-');
  mkdirSync(join(cwd, 'plugins'));
  cpSync(join(FIXTURES, 'echo-c'), join(cwd, 'plugins/echo-c'), { recursive: true });
  cpSync(join(FIXTURES, 'state'), join(cwd, 'plugins/state'), { recursive: true });
  mkdirSync(join(cwd, 'plugins/broken'));
  writeFileSync(join(cwd, 'plugins/broken/plugin.yaml'), 'apiVersion: airlock/v1\nname: broken\n');
  mkdirSync(join(cwd, 'plugins/not-a-plugin'));

  const run = await cli(['list', '--json'], { cwd });
  t.is(run.code, 1);
  const out = JSON.parse(run.stdout) as ListJson;
  t.deepEqual(
    out.plugins.map((p) => p.name),
    ['echo-c', 'state'],
  );
  t.deepEqual(
    out.failed.map((f) => [f.dir, f.error.code]),
    [[join(cwd, 'plugins/broken'), 'invalid-manifest']],
  );

  const human = await cli(['list'], { cwd });
  t.is(human.code, 1);
  t.regex(human.stderr, /^plugins\/broken: invalid-manifest: /m);
});

test('list says where it looked when there is nothing', async (t) => {
  const cwd = tempDir('airlock-list-');
  const run = await cli(['list'], { cwd });
  t.is(run.code, 0);
  t.regex(run.stdout, /^no plugins found \(looked in .*plugins\)\n$/);
});
