/**
 * plugin.yaml checked in a worker thread (src/manifest/off-thread.ts): the
 * same answers as validatePlugin, the host's event loop free meanwhile, and a
 * check that never ends or is abandoned costs only its own request.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { isAirlockError } from '../../src/errors.ts';
import { validatePlugin } from '../../src/manifest/index.ts';
import { loadPluginOffThread, validatePluginOffThread } from '../../src/manifest/off-thread.ts';
import { MAX_YAML_DEPTH } from '../../src/manifest/source.ts';
import { manifestObject, tempDir } from '../helpers/plugin.ts';

const fixtures = new URL('../../fixtures/manifests/', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url);

/**
 * loadPluginOffThread of `dir` in a fresh process (as `airlock call` is), with `cache` as the Airlock cache:
 * the plugin's description and the names of the worker threads the process started (Node's `worker_threads` channel).
 */
async function freshLoad(dir: string, cache: string): Promise<{ description: string; workers: string[] }> {
  const script = `const workers = []; (await import('node:diagnostics_channel')).subscribe('worker_threads', (m) => workers.push(m.worker.threadName));
    const { loadPluginOffThread } = await import(${JSON.stringify(new URL('src/manifest/off-thread.ts', ROOT).href)});
    const p = await loadPluginOffThread(${JSON.stringify(dir)});
    process.stdout.write(JSON.stringify({ description: p.manifest.description, workers }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, AIRLOCK_CACHE_DIR: cache },
    timeout: 90_000,
  });
  return JSON.parse(stdout) as { description: string; workers: string[] };
}

/**
 * A valid manifest of ~200 KB (under the 256 KiB cap): a good part of a second of YAML and schema work, all of it
 * the plugin's text. Its text is new each time (its folder's name in it): a text checked before is not checked again.
 */
function heavyPlugin(): string {
  const dir = tempDir();
  const props = Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`field_${i}`, { type: 'string', description: `field ${i} of the tool` }]));
  const tools = Array.from({ length: 100 }, (_, i) => ({ name: `tool_${i}`, description: `tool ${i}`, input: { type: 'object', properties: props } }));
  writeFileSync(join(dir, 'plugin.yaml'), stringify(manifestObject({ name: 'heavy', description: dir, tools }), { aliasDuplicateObjects: false }));
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

test("a text checked before is answered on the caller's thread: a fresh process starts no manifest worker for it", async (t) => {
  const cache = tempDir('airlock-cache-');
  const dir = tempDir();
  writeFileSync(join(dir, 'main.py'), '');
  writeFileSync(join(dir, 'plugin.yaml'), stringify(manifestObject({ name: 'remembered', description: 'first' })));
  // Never checked: the worker checks it (and the check is kept).
  t.deepEqual(await freshLoad(dir, cache), { description: 'first', workers: ['airlock:manifest'] });
  t.deepEqual(await freshLoad(dir, cache), { description: 'first', workers: [] });
  // A changed text is the worker's again.
  writeFileSync(join(dir, 'plugin.yaml'), stringify(manifestObject({ name: 'remembered', description: 'second' })));
  t.deepEqual(await freshLoad(dir, cache), { description: 'second', workers: ['airlock:manifest'] });
});

test('a remembered text still has its files checked on every load: a removed entry file is reported without the worker', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'main.py'), '');
  writeFileSync(join(dir, 'plugin.yaml'), stringify(manifestObject({ name: 'files-again' })));
  t.true((await validatePluginOffThread(dir)).ok);
  // Remembered now: the text alone decides nothing about the folder.
  (await import('node:fs')).rmSync(join(dir, 'main.py'));
  const result = await validatePluginOffThread(dir);
  t.false(result.ok);
  if (!result.ok) t.deepEqual(result, validatePlugin(dir));
});

test('an aborted signal refuses the check, even of a text checked before (answered without the worker)', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'main.py'), '');
  writeFileSync(join(dir, 'plugin.yaml'), stringify(manifestObject({ name: 'aborted-recall', description: dir })));
  t.true((await validatePluginOffThread(dir)).ok);
  const controller = new AbortController();
  controller.abort();
  const err = await t.throwsAsync(validatePluginOffThread(dir, { signal: controller.signal }));
  t.true(isAirlockError(err, 'aborted'), String(err));
});
