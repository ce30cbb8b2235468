/**
 * plugin.yaml checked in a worker thread (src/manifest/off-thread.ts): the
 * same answers as validatePlugin, the host's event loop free meanwhile, and a
 * check that never ends or is abandoned costs only its own request.
 */
import test from 'ava';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { isAirlockError } from '../../src/errors.ts';
import { validatePlugin } from '../../src/manifest/index.ts';
import { loadPluginOffThread, validatePluginOffThread } from '../../src/manifest/off-thread.ts';
import { MAX_YAML_DEPTH } from '../../src/manifest/source.ts';
import { manifestObject, tempDir } from '../helpers/plugin.ts';

const fixtures = new URL('../../fixtures/manifests/', import.meta.url).pathname;

/** A valid manifest of ~200 KB (under the 256 KiB cap): a good part of a second of YAML and schema work, all of it the plugin's text. */
function heavyPlugin(): string {
  const dir = tempDir();
  const props = Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`field_${i}`, { type: 'string', description: `field ${i} of the tool` }]));
  const tools = Array.from({ length: 100 }, (_, i) => ({ name: `tool_${i}`, description: `tool ${i}`, input: { type: 'object', properties: props } }));
  writeFileSync(join(dir, 'plugin.yaml'), stringify(manifestObject({ name: 'heavy', tools }), { aliasDuplicateObjects: false }));
  writeFileSync(join(dir, 'main.py'), '');
  return dir;
}

test('every golden manifest gets the same result off the thread as on it, problems and positions alike', async (t) => {
  for (const kind of ['valid', 'invalid']) {
    for (const name of readdirSync(join(fixtures, kind))) {
      const dir = join(fixtures, kind, name);
      const here = validatePlugin(dir);
      const there = await validatePluginOffThread(dir);
      if (here.ok && there.ok) {
        const { source: a, ...restA } = here.plugin;
        const { source: b, ...restB } = there.plugin;
        t.deepEqual(restB, restA, `${kind}/${name}`);
        t.deepEqual(b.positions, a.positions, `${kind}/${name}: positions`);
        t.deepEqual(b.locate(['tools', 0, 'name']), a.locate(['tools', 0, 'name']));
        t.is(b.has(['resources', 'memory']), a.has(['resources', 'memory']));
      } else {
        t.deepEqual(there, here, `${kind}/${name}`);
      }
    }
  }
});

test("the host's event loop keeps turning while a heavy manifest is checked", async (t) => {
  const dir = heavyPlugin();
  let beats = 0;
  const beat = setInterval(() => beats++, 1);
  try {
    const plugin = await loadPluginOffThread(dir);
    t.is(plugin.manifest.tools.length, 100);
  } finally {
    clearInterval(beat);
  }
  // Checked on this thread, the interval could not fire before the check ended.
  t.true(beats > 0, 'timers fired while the manifest was checked');
});

test('a check past its time bound is invalid-manifest, and the next check is answered', async (t) => {
  const dir = heavyPlugin();
  const err = await t.throwsAsync(loadPluginOffThread(dir, { timeoutMs: 1 }));
  t.true(isAirlockError(err, 'invalid-manifest'), String(err));
  t.regex(err!.message, /took longer than 1 ms/);
  t.is((await loadPluginOffThread(dir)).manifest.name, 'heavy');
});

test('an aborted check is aborted; checks queued behind it are answered', async (t) => {
  const dir = heavyPlugin();
  const ac = new AbortController();
  const first = validatePluginOffThread(dir, { signal: ac.signal });
  const second = validatePluginOffThread(dir);
  ac.abort();
  const err = await t.throwsAsync(first);
  t.true(isAirlockError(err, 'aborted'), String(err));
  t.true((await second).ok);
});

test('repeated keys are found in linear time: 20,000 distinct keys check, one repeat among them is named', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'main.py'), '');
  const keys = Array.from({ length: 20_000 }, (_, i) => `  k${i}: 1`).join('\n');
  // Before: yaml's own uniqueKeys compared every key of a map with every other (60,000 keys took 69 s).
  writeFileSync(join(dir, 'plugin.yaml'), `${stringify(manifestObject())}x:\n${keys}\n  k17: 2\n`);
  const result = await validatePluginOffThread(dir);
  t.false(result.ok);
  if (!result.ok)
    t.true(
      result.problems.some((p) => p.line === 20_012 && /Map keys must be unique/.test(p.message)),
      JSON.stringify(result.problems.slice(0, 3)),
    );
});

test(`a document nested deeper than ${MAX_YAML_DEPTH} levels is refused at the depth, without walking further`, async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'main.py'), '');
  const deep = `${'['.repeat(200)}${']'.repeat(200)}`;
  writeFileSync(join(dir, 'plugin.yaml'), `${stringify(manifestObject())}x: ${deep}\n`);
  const result = await validatePluginOffThread(dir);
  t.false(result.ok);
  if (!result.ok)
    t.true(
      result.problems.some((p) => p.message === `nested deeper than ${MAX_YAML_DEPTH} levels`),
      JSON.stringify(result.problems.slice(0, 3)),
    );
});
