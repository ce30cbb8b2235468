/**
 * `airlock prune`: keeps the build each plugin folder uses now (and its
 * transpiled and compiled forms) and the newest image per plugin; removes
 * what older builds left; never touches anything outside the cache root or
 * an image Airlock did not build.
 */
import test from 'ava';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { recordBuildRef } from '../../src/build/refs.ts';
import { buildPlugin } from '../../src/build/wasm.ts';
import { glueCodeCacheName } from '../../src/engines/wasm/glue-file.ts';
import { transpileKey } from '../../src/engines/wasm/transpile.ts';
import { DEFAULT_INPUT } from '../../src/grants/policy-paths.ts';
import { validatorEntryName } from '../../src/host/validator-cache.ts';
import { checkEntryName } from '../../src/manifest/check-cache.ts';
import { toDraft2020 } from '../../src/manifest/dialect.ts';
import { validatePlugin } from '../../src/manifest/load.ts';
import { cwasmKey } from '../../src/engines/wasmtime/compile.ts';
import { type ImageStore, prune } from '../../src/prune/index.ts';
import { cli } from '../helpers/cli.ts';
import { withEnv } from '../helpers/env.ts';
import { tempDir } from '../helpers/plugin.ts';

const h = (c: string): string => c.repeat(64);
const DAY = 86_400_000;

/** A writer of files in `dir` (made here) dated ten days ago: each call writes one and returns its path. */
function agedFileIn(dir: string): (name: string) => string {
  mkdirSync(dir, { recursive: true });
  const aged = (Date.now() - 10 * DAY) / 1000;
  return (name) => {
    writeFileSync(join(dir, name), 'v8');
    utimesSync(join(dir, name), aged, aged);
    return join(dir, name);
  };
}

function entry(dir: string, bytes: string, ageDays = 10): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'plugin.wasm'), bytes);
  const t = (Date.now() - ageDays * DAY) / 1000;
  utimesSync(dir, t, t);
  return dir;
}

/** A cache with one build in use, one older build, one whose plugin folder is gone, their derived forms, and things prune must leave alone. */
async function fixture() {
  const root = tempDir('airlock-prune-');
  const plugin = tempDir();
  writeFileSync(join(plugin, 'plugin.yaml'), 'name: p\n');
  const gone = join(tempDir(), 'deleted-plugin');
  const current = entry(join(root, 'build', h('a')), 'CURRENT');
  const older = entry(join(root, 'build', h('b')), 'OLDER');
  const orphan = entry(join(root, 'build', h('c')), 'ORPHAN');
  await recordBuildRef(plugin, h('a'), root);
  await recordBuildRef(gone, h('c'), root);
  const bytes = new Uint8Array(Buffer.from('CURRENT'));
  const keptGlue = entry(join(root, 'transpiled', transpileKey(bytes)), 'glue');
  const oldGlue = entry(join(root, 'transpiled', h('d')), 'glue');
  mkdirSync(join(root, 'wasmtime', '48.0.8'), { recursive: true });
  const keptCwasm = join(root, 'wasmtime', '48.0.8', `${cwasmKey(bytes)}.cwasm`);
  const oldCwasm = join(root, 'wasmtime', '48.0.8', `${h('e')}.cwasm`);
  writeFileSync(keptCwasm, 'native');
  writeFileSync(oldCwasm, 'native');
  const aged = (Date.now() - 10 * DAY) / 1000;
  utimesSync(oldCwasm, aged, aged);
  utimesSync(keptCwasm, aged, aged);
  const oldToolchain = entry(join(root, 'build-toolchain', 'componentize-js-0.0.1'), 'x');
  const staleTmp = entry(join(root, 'build', `${h('f')}.tmp-1-abc`), 'half');
  const freshTmp = entry(join(root, 'build', `${h('f')}.tmp-2-abc`), 'half', 0);
  // Outside the root, reached through a symlink named like an entry: never followed, never removed.
  const outside = tempDir();
  writeFileSync(join(outside, 'precious'), 'keep me');
  symlinkSync(outside, join(root, 'build', h('9')));
  const notOurs = entry(join(root, 'build', 'notes'), 'x');
  const other = entry(join(root, 'node-24'), 'x');
  return { root, current, older, orphan, keptGlue, oldGlue, keptCwasm, oldCwasm, oldToolchain, staleTmp, freshTmp, outside, notOurs, other };
}

test('prune removes older builds, builds of deleted folders and their derived forms; keeps what folders use now', async (t) => {
  const f = await fixture();
  const dry = await prune({ root: f.root, dryRun: true });
  const listed = dry.removed.map((r) => r.what).sort();
  const goneRef = dry.removed.find((r) => r.kind === 'ref');
  t.regex(goneRef?.reason ?? '', /deleted-plugin, which is gone/);
  t.deepEqual(listed, [f.older, f.orphan, f.staleTmp, f.oldToolchain, f.oldGlue, f.oldCwasm, goneRef?.what].sort());
  t.true(
    listed.every((p) => existsSync(p)),
    'a dry run removes nothing',
  );
  t.is(dry.kept.build, 1);
  t.true(dry.bytes > 0);

  const real = await prune({ root: f.root });
  t.deepEqual(real.removed.map((r) => r.what).sort(), listed);
  t.is(real.bytes, dry.bytes);
  for (const p of listed) t.false(existsSync(p), p);
  for (const p of [f.current, f.keptGlue, f.keptCwasm, f.freshTmp, f.notOurs, f.other, join(f.root, 'build', h('9'))]) t.true(existsSync(p), p);
  t.is(readFileSync(join(f.outside, 'precious'), 'utf8'), 'keep me');
  t.deepEqual(readdirSync(f.outside), ['precious']);
});

test("remembered manifest checks: the current manifest's and the default policy's are kept; an edited manifest's goes; V8's compile cache of another Node goes", async (t) => {
  const f = await fixture();
  const checks = join(f.root, 'manifest-checks');
  mkdirSync(checks);
  const aged = (Date.now() - 10 * DAY) / 1000;
  const put = (name: string, age = aged): string => {
    writeFileSync(join(checks, name), 'x');
    utimesSync(join(checks, name), age, age);
    return join(checks, name);
  };
  // The fixture's plugin folder holds `name: p\n` now; `name: old\n` was its manifest before an edit.
  const current = put(checkEntryName('manifest', 'name: p\n'));
  const policy = put(checkEntryName('policy', DEFAULT_INPUT));
  const edited = put(checkEntryName('manifest', 'name: old\n'));
  const fresh = put(checkEntryName('manifest', 'name: other\n'), Date.now() / 1000);
  const staleTmp = put(`${h('1')}.bin.123.abc`);
  const notOurs = put('notes.txt');
  const outside = tempDir();
  writeFileSync(join(outside, 'precious'), 'keep me');
  symlinkSync(join(outside, 'precious'), join(checks, `${h('2')}.bin`));
  const thisNode = entry(join(f.root, 'v8-compile', `${process.version}-${process.arch}-964aae3f-0`), 'x');
  const otherNode = entry(join(f.root, 'v8-compile', 'v20.1.0-x64-964aae3f-0'), 'x');

  const r = await prune({ root: f.root });
  const removed = r.removed.filter((x) => x.kind === 'check' || x.kind === 'compile-cache' || x.what.startsWith(checks));
  t.deepEqual(removed.map((x) => x.what).sort(), [edited, staleTmp, otherNode].sort());
  t.regex(removed.find((x) => x.kind === 'compile-cache')?.reason ?? '', /another Node/);
  for (const p of [current, policy, fresh, notOurs, thisNode, join(checks, `${h('2')}.bin`)]) t.true(existsSync(p), p);
  t.is(readFileSync(join(outside, 'precious'), 'utf8'), 'keep me');
});

test("V8's code cache of a glue: kept for a component in use under this Node; another component's, another Node's and interrupted writes go", async (t) => {
  const f = await fixture();
  writeFileSync(join(f.keptGlue, 'plugin.js'), 'function instantiate() {}\n');
  writeFileSync(join(f.oldGlue, 'plugin.js'), 'function instantiate() { return 1; }\n');
  const codes = join(f.root, 'glue-code');
  const put = agedFileIn(codes);
  const kept = put(glueCodeCacheName('function instantiate() {}\n', join(f.keptGlue, 'plugin.js')));
  const unused = put(glueCodeCacheName('function instantiate() { return 1; }\n', join(f.oldGlue, 'plugin.js')));
  const otherNode = put(`${h('3')}-node20.1.0.code`);
  const leftover = put(`${h('3')}-node20.1.0.code.77-1.tmp`);
  const r = await prune({ root: f.root });
  t.deepEqual(
    r.removed
      .filter((x) => x.what.startsWith(codes))
      .map((x) => x.what)
      .sort(),
    [unused, otherNode, leftover].sort(),
  );
  t.true(existsSync(kept));
});

test.serial("the remembered check of a plugin folder's manifest and its tools' validators are kept; a validator of a schema no plugin has goes", async (t) => {
  const root = tempDir('airlock-prune-');
  const dir = tempDir();
  cpSync(join(FIXTURES_DIR, 'echo-c'), dir, { recursive: true });
  await withEnv({ AIRLOCK_CACHE_DIR: root }, async () => {
    const read = validatePlugin(dir);
    if (!read.ok) return t.fail(JSON.stringify(read.problems));
    await recordBuildRef(dir, h('a'), root);
    const checks = join(root, 'manifest-checks');
    const aged = (Date.now() - 10 * DAY) / 1000;
    const put = (name: string): string => {
      writeFileSync(join(checks, name), 'x');
      utimesSync(join(checks, name), aged, aged);
      return join(checks, name);
    };
    const schemas = read.plugin.manifest.tools.flatMap((tool) => [tool.input, ...(tool.output === undefined ? [] : [tool.output])]);
    t.true(schemas.length > 0);
    const validators = schemas.map((s) => put(validatorEntryName(toDraft2020(s))));
    const unused = put(validatorEntryName({ type: 'string', maxLength: 7 }));
    const manifest = readdirSync(checks).filter((n) => !validators.includes(join(checks, n)) && join(checks, n) !== unused);
    t.is(manifest.length, 1, 'the manifest check validatePlugin remembered');
    utimesSync(join(checks, manifest[0]!), aged, aged);
    const r = await prune({ root });
    t.deepEqual(
      r.removed.filter((x) => x.kind === 'check').map((x) => x.what),
      [unused],
    );
    for (const p of [...validators, join(checks, manifest[0]!)]) t.true(existsSync(p), p);
  });
});

test('prune --older-than keeps what is younger', async (t) => {
  const f = await fixture();
  const t5 = (Date.now() - 2 * DAY) / 1000;
  utimesSync(f.older, t5, t5);
  await prune({ root: f.root, olderThanMs: 5 * DAY });
  t.true(existsSync(f.older));
  t.false(existsSync(f.orphan));
});

// Serial: withEnv sets AIRLOCK_CACHE_DIR for the whole process, so two such tests at once would build into each other's cache.
test.serial('a real build, edited and built again: prune removes the first build and keeps the one the source uses now, which holds no scratch', async (t) => {
  const root = tempDir('airlock-prune-');
  const dir = tempDir();
  cpSync(join(FIXTURES_DIR, 'third-party'), dir, { recursive: true });
  await withEnv({ AIRLOCK_CACHE_DIR: root }, async () => {
    const first = await buildPlugin(dir);
    writeFileSync(join(dir, 'plugin.yaml'), readFileSync(join(dir, 'plugin.yaml'), 'utf8').replace(/^description: .*$/m, 'description: edited'));
    const second = await buildPlugin(dir);
    t.not(first.hash, second.hash);
    // An entry younger than a minute may be a concurrent build's: kept until it is older.
    t.deepEqual((await prune({ root })).removed, []);
    const aged = (Date.now() - 120_000) / 1000;
    utimesSync(join(root, 'build', first.hash), aged, aged);
    const r = await prune({ root });
    t.deepEqual(
      r.removed.map((x) => x.what),
      [join(root, 'build', first.hash)],
    );
    t.true(existsSync(second.componentPath));
    // An entry holds the component and its records only, not the build's scratch (a copy of the entry).
    t.deepEqual(readdirSync(join(root, 'build', second.hash)).sort(), ['plugin.wasm', 'seal.json', 'toolchain']);
    // A cache hit records the use too: nothing more to prune.
    t.true((await buildPlugin(dir)).cached);
    t.deepEqual((await prune({ root })).removed, []);
  });
});

test('images: the newest per plugin is kept; only airlock-managed, airlock-plugin/ tagged images are removed; a failure is reported', async (t) => {
  const now = Date.now();
  const img = (id: string, tags: string[], plugin: string | undefined, ageDays: number, managed = true) => ({
    id,
    tags,
    labels: { ...(managed ? { 'airlock.managed': 'true' } : {}), ...(plugin === undefined ? {} : { 'airlock.plugin': plugin }) },
    created: now - ageDays * DAY,
    size: 1000,
  });
  const removed: string[] = [];
  const store: ImageStore = {
    list: async () => [
      img('1', ['airlock-plugin/a:new'], 'a', 1),
      img('2', ['airlock-plugin/a:mid'], 'a', 5),
      img('3', ['airlock-plugin/a:old', 'airlock-plugin/a:old2'], 'a', 9),
      img('4', ['airlock-plugin/b:only'], 'b', 30),
      img('5', ['someone/else:1'], 'a', 40),
      img('6', ['airlock-plugin/a:unlabelled'], 'a', 40, false),
      img('7', ['airlock-plugin/c:new'], 'c', 1),
      img('8', ['airlock-plugin/c:busy'], 'c', 3),
    ],
    remove: async (tag) => {
      if (tag.endsWith(':busy')) throw new Error('(HTTP code 409) conflict - image is being used by running container');
      removed.push(tag);
    },
  };
  const root = tempDir();
  const dry = await prune({ root, images: store, dryRun: true, now });
  t.deepEqual(removed, []);
  t.deepEqual(
    dry.removed.map((r) => r.what),
    ['airlock-plugin/a:mid', 'airlock-plugin/a:old', 'airlock-plugin/a:old2', 'airlock-plugin/c:busy'],
  );
  const r = await prune({ root, images: store, now, olderThanMs: 2 * DAY });
  t.deepEqual(removed, ['airlock-plugin/a:mid', 'airlock-plugin/a:old', 'airlock-plugin/a:old2']);
  t.is(r.kept.images, 3);
  t.regex(r.removed.find((x) => x.what === 'airlock-plugin/c:busy')?.error ?? '', /being used/);
  t.is(r.bytes, 2000);
});

test.serial('airlock prune: --dry-run lists and frees nothing; --json; a bad --older-than is a usage error', async (t) => {
  const f = await fixture();
  const env = { AIRLOCK_CACHE_DIR: f.root, DOCKER_HOST: `unix://${join(tempDir(), 'none.sock')}` };
  const dry = await withEnv(env, () => cli(['prune', '--dry-run']));
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, new RegExp(`^would remove build ${f.older} \\(\\d+ B\\): no plugin folder uses it now`, 'm'));
  t.regex(dry.stdout, /^images not checked: the Docker daemon .* does not answer/m);
  t.regex(dry.stdout, /^would free \d+ B \(7 items\); kept 1 builds in use and 0 images$/m);
  t.true(existsSync(f.older));
  const json = await withEnv(env, () => cli(['prune', '--json']));
  t.is(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { removed: Array<{ what: string }>; dryRun: boolean };
  t.false(parsed.dryRun);
  t.is(parsed.removed.length, 7);
  t.false(existsSync(f.older));
  t.is((await cli(['prune', '--older-than', 'soon'])).code, 2);
  t.is((await cli(['prune', 'extra'])).code, 2);
});

test("V8's code cache of Airlock's bundle: the installed bundle's under this Node is kept; another version's, another Node's and interrupted writes go", async (t) => {
  const f = await fixture();
  const codes = join(f.root, 'bundle-code');
  const put = agedFileIn(codes);
  const bundleFile = join(tempDir(), 'airlock.cjs');
  writeFileSync(bundleFile, `// airlock-bundle ${h('a')}\nexports.x = 1;\n`);
  const node = process.versions.node;
  const kept = [put(`${h('a')}-call-node${node}.code`), put(`${h('a')}-mcp-config-node${node}.code`), put(`${h('a')}-library-node${node}.code`)];
  const otherVersion = put(`${h('b')}-call-node${node}.code`);
  const otherNode = put(`${h('a')}-call-node20.1.0.code`);
  const leftover = put(`${h('a')}-call-node${node}.code.77-1.tmp`);
  const notOurs = put('notes.txt');
  const removed = async (options: { bundleFile?: string; dryRun: boolean }) =>
    (await prune({ root: f.root, ...options })).removed
      .filter((x) => x.what.startsWith(codes))
      .map((x) => x.what)
      .sort();
  // From a checkout (no bundle): only what no process of this Node can use.
  t.deepEqual(await removed({ bundleFile: join(tempDir(), 'none.cjs'), dryRun: true }), [otherNode, leftover].sort());
  t.deepEqual(await removed({ bundleFile, dryRun: false }), [otherVersion, otherNode, leftover].sort());
  for (const p of [...kept, notOurs]) t.true(existsSync(p), p);
});
