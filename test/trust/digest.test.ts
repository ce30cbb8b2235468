/**
 * Digests: the plugin's (the content hash of its folder, the one the caches
 * use), each tool's, and a built artefact's; `airlock inspect` and
 * `airlock build` show them.
 */
import test from 'ava';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashTree } from '../../src/content-hash.ts';
import { loadPlugin } from '../../src/manifest/index.ts';
import { canonicalJson, fileDigest, pluginDigest, SIGNATURE_FILE, toolDigest } from '../../src/trust/index.ts';
import { sha256 } from '../../src/cache-integrity.ts';
import { cli } from '../helpers/cli.ts';
import { echoCopy, edit, FIXTURE } from './helpers.ts';

test('the plugin digest is the content hash of its folder, the same for a copy anywhere', async (t) => {
  const copy = echoCopy();
  const digest = await pluginDigest(copy);
  t.regex(digest, /^sha256:[0-9a-f]{64}$/);
  t.is(digest, await pluginDigest(FIXTURE));
  t.is(digest, `sha256:${await hashTree(copy)}`, 'one hash function: src/content-hash.ts');
});

test('one changed byte, a new file or an executable bit changes the digest', async (t) => {
  const dir = echoCopy();
  const before = await pluginDigest(dir);
  edit(dir, 'echo.js', 'a + b', 'a + c');
  const edited = await pluginDigest(dir);
  t.not(edited, before);
  writeFileSync(join(dir, 'notes.txt'), '');
  const added = await pluginDigest(dir);
  t.not(added, edited);
  chmodSync(join(dir, 'notes.txt'), 0o755);
  t.not(await pluginDigest(dir), added);
});

test('the signature file, __pycache__ and .venv are outside the digest; node_modules (bundled into a JS component) is inside', async (t) => {
  const dir = echoCopy();
  const before = await pluginDigest(dir);
  writeFileSync(join(dir, SIGNATURE_FILE), 'anything');
  mkdirSync(join(dir, '__pycache__'), { recursive: true });
  writeFileSync(join(dir, '__pycache__', 'x.pyc'), 'cache');
  mkdirSync(join(dir, '.venv'), { recursive: true });
  writeFileSync(join(dir, '.venv', 'pyvenv.cfg'), 'home = /usr');
  t.is(await pluginDigest(dir), before);
  mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), 'export default 1;');
  t.not(await pluginDigest(dir), before);
});

test('a tool digest covers description, schemas and annotations, not the key order of its YAML', (t) => {
  const tool = loadPlugin(FIXTURE).manifest.tools[1]!;
  const digest = toolDigest(tool);
  t.is(toolDigest({ ...tool, input: JSON.parse(canonicalJson(tool.input)) }), digest);
  t.is(toolDigest({ annotations: tool.annotations, input: tool.input, description: tool.description, name: tool.name }), digest);
  t.not(toolDigest({ ...tool, description: `${tool.description} ` }), digest);
  t.not(toolDigest({ ...tool, output: { type: 'number' } }), digest);
  t.not(toolDigest({ ...tool, annotations: { readOnly: false } }), digest);
});

test('airlock inspect shows the plugin and component digests (text and --json)', async (t) => {
  const dir = echoCopy();
  const json = await cli(['inspect', dir, '--json']);
  t.is(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout);
  t.is(out.digests.plugin, await pluginDigest(dir));
  t.is(out.digests.component, await fileDigest(out.engine.component));
  const text = await cli(['inspect', dir]);
  t.true(text.stdout.includes(`digest     ${out.digests.plugin}`), text.stdout);
  t.true(text.stdout.includes(`component  ${out.digests.component}`), text.stdout);
});

test('airlock build --json gives the component digest: the sha256 of the bytes engines run', async (t) => {
  const dir = echoCopy();
  const run = await cli(['build', dir, '--json']);
  t.is(run.code, 0, run.stderr);
  const [component] = JSON.parse(run.stdout);
  t.is(component.digest, `sha256:${sha256(readFileSync(component.artifact))}`);
});
