/**
 * A manifest's schema check is remembered (src/manifest/check-cache.ts): the
 * same text checks again without yaml, zod or Ajv and gives the same result;
 * a changed text, a damaged entry or a failed check is checked in full. The
 * checker's fingerprint in the key is remembered by its files' identities and
 * changes with any of them.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkerFingerprint, MAX_ENTRIES, recalledCheck, rememberCheck } from '../../src/manifest/check-cache.ts';
import { validatePlugin, type LoadedManifest } from '../../src/manifest/index.ts';
import { manifestObject, tempDir, writePlugin } from '../helpers/plugin.ts';

const ROOT = new URL('../../', import.meta.url);
// This test file's own cache (ava runs each file in its own thread, with its own environment).
process.env.AIRLOCK_CACHE_DIR = tempDir('airlock-cache-');
const entries = (): string[] => readdirSync(join(process.env.AIRLOCK_CACHE_DIR as string, 'manifest-checks')).filter((n) => n.endsWith('.bin'));

/** What a check gave, with the source's answers instead of its functions. */
function outcome(plugin: LoadedManifest) {
  const { source, ...rest } = plugin;
  return {
    ...rest,
    positions: source.positions,
    at: [source.locate(['tools', 0, 'name']), source.locateKey([], 'entry'), source.textAt(['version']), source.has(['resources'])],
  };
}

function check(dir: string): LoadedManifest {
  const r = validatePlugin(dir);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plugin;
}

test.serial('a manifest checked before is recalled in a fresh process without yaml, zod or Ajv, with the same result', async (t) => {
  const plugin = writePlugin(manifestObject({ name: 'recalled', description: 'first' }));
  const first = outcome(check(plugin.dir));
  // A fresh process, as `airlock call` is: the module trace shows what the check loaded.
  const trace = join(tempDir(), 'trace.txt');
  const script = `const { validatePlugin } = await import(${JSON.stringify(new URL('src/manifest/load.ts', ROOT).href)});
    const r = validatePlugin(${JSON.stringify(plugin.dir)}); const { source, ...rest } = r.plugin;
    process.stdout.write(JSON.stringify({ ...rest, positions: source.positions, at: [source.locate(['tools', 0, 'name']), source.locateKey([], 'entry'), source.textAt(['version']), source.has(['resources'])] }));`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [`--import=${new URL('test/helpers/module-trace.ts', ROOT).href}?out=${trace}`, '--input-type=module', '-e', script],
    { env: process.env, timeout: 90_000 },
  );
  t.deepEqual(JSON.parse(stdout), JSON.parse(JSON.stringify(first)));
  const loaded = readFileSync(trace, 'utf8');
  t.true(loaded.includes('src/manifest/load.ts'), 'the trace sees the check');
  t.notRegex(loaded, /node_modules\/(yaml|zod|ajv|re2js)\//);
});

test.serial('a changed text is checked again, and a damaged entry is checked again and rewritten', (t) => {
  const plugin = writePlugin(manifestObject({ name: 'changed', description: 'before' }));
  const before = entries().length;
  writeFileSync(join(plugin.dir, 'plugin.yaml'), readFileSync(plugin.file, 'utf8').replace('before', 'after'));
  t.is(check(plugin.dir).manifest.description, 'after');
  t.is(entries().length, before + 1);
  const fresh = outcome(check(plugin.dir));
  for (const name of entries()) writeFileSync(join(process.env.AIRLOCK_CACHE_DIR as string, 'manifest-checks', name), 'garbage');
  t.deepEqual(outcome(check(plugin.dir)), fresh);
  const again = entries().map((n) => readFileSync(join(process.env.AIRLOCK_CACHE_DIR as string, 'manifest-checks', n), 'utf8'));
  t.true(
    again.some((text) => text !== 'garbage'),
    'the entry of the text checked is written again',
  );
});

test.serial('a manifest with problems is never kept: each check reports them again', (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'main.py'), '');
  writeFileSync(join(dir, 'plugin.yaml'), 'apiVersion: airlock/v1\nname: Bad Name\nversion: 1.0.0\nentry: main.py\ntools: []\n');
  const before = entries().length;
  const a = validatePlugin(dir);
  const b = validatePlugin(dir);
  t.false(a.ok);
  t.deepEqual(b, a);
  t.is(entries().length, before);
});

test.serial('the cache keeps a bounded number of checks: past MAX_ENTRIES it keeps the newest only', (t) => {
  const check = { value: { name: 'x' }, positions: { values: [], keys: [], texts: [] } };
  for (let i = 0; i <= MAX_ENTRIES; i++) rememberCheck(`text ${i}`, check);
  t.true(entries().length <= MAX_ENTRIES, `${entries().length} entries`);
  t.deepEqual(recalledCheck(`text ${MAX_ENTRIES}`), check);
});

test.serial("an entry vouches only for the text it was written for: copied under another text's key, it is not trusted", (t) => {
  const dir = join(process.env.AIRLOCK_CACHE_DIR as string, 'manifest-checks');
  /** Writes and checks a plugin; the name of the entry its check added. */
  const kept = (name: string): { plugin: LoadedManifest; entry: string | undefined } => {
    const before = new Set(entries());
    const plugin = writePlugin(manifestObject({ name, description: name }));
    return { plugin, entry: entries().find((n) => !before.has(n)) };
  };
  const a = kept('swap-a');
  const b = kept('swap-b');
  t.truthy(a.entry);
  t.truthy(b.entry);
  // B's key now holds A's check, seal and all (as a stray copy, or someone planting it, would leave it).
  writeFileSync(join(dir, b.entry!), readFileSync(join(dir, a.entry!)));
  const again = check(b.plugin.dir);
  t.is(again.manifest.name, 'swap-b');
  t.is(again.manifest.description, 'swap-b');
});

/** A checker folder of its own (two modules and a policy schema), so editing it touches no other test. */
function checkerCopy(): { dir: string; policy: string } {
  const root = tempDir();
  const dir = join(root, 'manifest');
  mkdirSync(dir);
  writeFileSync(join(dir, 'load.ts'), 'export const load = 1;\n');
  writeFileSync(join(dir, 'schema.ts'), 'export const schema = 1;\n');
  writeFileSync(join(root, 'policy.ts'), 'export const policy = 1;\n');
  return { dir, policy: join(root, 'policy.ts') };
}

test.serial("the checker's fingerprint is remembered while its files are unchanged, and changes when one is edited, added or removed", (t) => {
  const { dir, policy } = checkerCopy();
  const first = checkerFingerprint(dir, policy);
  // While nothing changed the memo is taken as it is (a marked hash comes back), not computed again.
  const memos = join(process.env.AIRLOCK_CACHE_DIR as string, 'manifest-checker');
  const mark = (hash: string) => {
    for (const name of readdirSync(memos)) {
      const memo = JSON.parse(readFileSync(join(memos, name), 'utf8')) as { dir: string };
      if (memo.dir === dir) writeFileSync(join(memos, name), JSON.stringify({ ...memo, hash }));
    }
  };
  mark('marked');
  t.is(checkerFingerprint(dir, policy), 'marked', 'remembered');
  mark(first);
  // The same size, written again: a checker edited in place.
  writeFileSync(join(dir, 'schema.ts'), 'export const schema = 2;\n');
  const edited = checkerFingerprint(dir, policy);
  t.not(edited, first);
  writeFileSync(join(dir, 'schema.ts'), 'export const schema = 1;\n');
  t.is(checkerFingerprint(dir, policy), first, 'the same text, the same fingerprint');
  writeFileSync(join(dir, 'extra.ts'), 'export const extra = 1;\n');
  const added = checkerFingerprint(dir, policy);
  t.not(added, first);
  rmSync(join(dir, 'extra.ts'));
  t.is(checkerFingerprint(dir, policy), first);
  writeFileSync(policy, 'export const policy = 2;\n');
  t.not(checkerFingerprint(dir, policy), first, 'the policy schema is part of it');
});

test.serial('a remembered fingerprint that names other files or a damaged memo is computed again', (t) => {
  const { dir, policy } = checkerCopy();
  const first = checkerFingerprint(dir, policy);
  const memos = join(process.env.AIRLOCK_CACHE_DIR as string, 'manifest-checker');
  for (const name of readdirSync(memos)) {
    const memo = JSON.parse(readFileSync(join(memos, name), 'utf8')) as { dir: string; hash: string };
    if (memo.dir !== dir) continue;
    writeFileSync(join(memos, name), JSON.stringify({ ...memo, hash: 'forged' }).replace(/"files":\[\[/, '"files":[["/elsewhere",""],['));
  }
  t.is(checkerFingerprint(dir, policy), first);
  for (const name of readdirSync(memos)) writeFileSync(join(memos, name), '{');
  t.is(checkerFingerprint(dir, policy), first);
});
