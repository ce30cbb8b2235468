/**
 * The installed package's bundle (scripts/bundle.ts, src/bundle-load.ts):
 * built here from this checkout into a package laid out as npm installs it
 * (bin/, dist/ with the bundle, no src/), then run. `airlock call` answers
 * from it, its main thread loads no module of dist/ but the four the loader
 * shares with the bundle, and V8 takes the code cache an earlier run left;
 * the library entry exports what dist/index.js does, on the same
 * AirlockError class. Checked on module-load traces and files, not on time.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { fixtureComponent } from '../engines/wasm/helpers.ts';
import { tempDir } from '../helpers/plugin.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ECHO = join(ROOT, 'fixtures', 'plugins', 'echo-c');

/** This checkout compiled and bundled into a folder laid out as an install (no src/), once for the file. */
let built: Promise<string> | undefined;
const installed = (): Promise<string> => (built ??= install());

async function install(): Promise<string> {
  const pkg = tempDir('airlock-bundle-');
  const tsc = join(createRequire(import.meta.url).resolve('typescript/package.json'), '..', 'bin', 'tsc');
  cpSync(join(ROOT, 'bin'), join(pkg, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  for (const shared of ['wit', 'runtimes', 'node_modules']) symlinkSync(join(ROOT, shared), join(pkg, shared));
  await run(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.json'), '--outDir', join(pkg, 'dist')]);
  await run(process.execPath, [join(ROOT, 'scripts', 'bundle.ts'), join(pkg, 'dist')]);
  return pkg;
}

/** `node --import <module trace> <args>`: its output, and the modules its main thread loaded (file: URLs and builtins). */
async function traced(args: string[]): Promise<{ stdout: string; main: string[] }> {
  const out = join(tempDir('airlock-trace-'), 'trace.txt');
  const trace = `${pathToFileURL(join(ROOT, 'test', 'helpers', 'module-trace.ts')).href}?out=${out}`;
  const { stdout } = await run(process.execPath, [`--import=${trace}`, ...args], { timeout: 90_000 });
  const main = readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('0 '))
    .map((l) => l.slice(2));
  return { stdout, main };
}

test.serial(
  '`airlock call` of the installed package runs the bundle: no module of dist/ on its main thread but the loader and what it shares with the bundle',
  async (t) => {
    await fixtureComponent('echo-c');
    const pkg = await installed();
    t.true(existsSync(join(pkg, 'dist', 'bundle', 'airlock.cjs')));
    const { stdout, main } = await traced([join(pkg, 'bin', 'airlock.js'), 'call', ECHO, 'echo', '{"message":"hi"}']);
    t.deepEqual(JSON.parse(stdout), { message: 'hi' });
    const dist = pathToFileURL(join(pkg, 'dist')).href;
    const fromDist = [...new Set(main.filter((m) => m.startsWith(`${dist}/`)).map((m) => m.slice(dist.length + 1)))].sort();
    t.deepEqual(fromDist, ['bundle-load.js', 'code-cache.js', 'errors.js', 'paths.js']);
  },
);

test.serial("V8's code cache of a command, made at exit by a first run, is taken by the next run of it (not written again)", async (t) => {
  await fixtureComponent('echo-c');
  const pkg = await installed();
  const hash = /^\/\/ airlock-bundle ([0-9a-f]{64})\n/.exec(readFileSync(join(pkg, 'dist', 'bundle', 'airlock.cjs'), 'utf8'))?.[1];
  t.truthy(hash, 'the bundle names its hash on its first line');
  const cacheRoot = process.env.AIRLOCK_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '', '.cache'), 'airlock');
  const cache = join(cacheRoot, 'bundle-code', `${hash}-call-node${process.versions.node}.code`);
  const call = () => run(process.execPath, [join(pkg, 'bin', 'airlock.js'), 'call', ECHO, 'echo', '{"message":"hi"}'], { timeout: 90_000 });
  await call();
  t.true(existsSync(cache), 'the first run left its code cache');
  const first = statSync(cache).mtimeMs;
  await call();
  t.is(statSync(cache).mtimeMs, first, 'the second run took it (a refused cache is written again)');
});

test('a code cache is named by the text of its bundle: another bundle of the same length never takes it', async (t) => {
  const pkg = await installed();
  const cacheRoot = tempDir('airlock-cache-');
  const dir = tempDir('airlock-fake-bundle-');
  const loader = pathToFileURL(join(pkg, 'dist', 'bundle-load.js')).href;
  // Two bundles whose code has the same length (V8 checks only that), each exporting its own answer.
  const bundles = ['a', 'b'].map((answer) => {
    const code = `exports.answer = '${answer}';\n`;
    const file = join(dir, `${answer}.cjs`);
    const hash = createHash('sha256').update(code).digest('hex');
    writeFileSync(file, `// airlock-bundle ${hash}\n${code}`);
    return file;
  });
  const answer = async (file: string): Promise<string> =>
    (
      await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { loadBundle } = await import(${JSON.stringify(loader)}); process.stdout.write(loadBundle('test', ${JSON.stringify(file)}).answer);`,
        ],
        {
          env: { ...process.env, AIRLOCK_CACHE_DIR: cacheRoot },
        },
      )
    ).stdout;
  for (const round of [1, 2]) {
    t.is(await answer(bundles[0] as string), 'a', `round ${round}`);
    t.is(await answer(bundles[1] as string), 'b', `round ${round}`);
  }
  mkdirSync(join(cacheRoot, 'bundle-code'), { recursive: true });
  t.is(readdirSync(join(cacheRoot, 'bundle-code')).filter((f) => f.endsWith('.code')).length, 2, 'one cache per bundle text');
});

test('the library entry of the installed package exports what dist/index.js does, with the AirlockError class of dist/errors.js, and serves a call', async (t) => {
  await fixtureComponent('echo-c');
  const pkg = await installed();
  const entry = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).exports['.'].default as string;
  t.is(entry, './dist/bundle/index.js');
  const script = `
const lib = await import(${JSON.stringify(pathToFileURL(join(pkg, entry)).href)});
const plain = await import(${JSON.stringify(pathToFileURL(join(pkg, 'dist', 'index.js')).href)});
const errors = await import(${JSON.stringify(pathToFileURL(join(pkg, 'dist', 'errors.js')).href)});
const host = new lib.PluginHost({});
await host.load(${JSON.stringify(ECHO)});
const r = await host.call('echo-c_echo', { message: 'hi' });
await host.close();
process.stdout.write(JSON.stringify({ names: Object.keys(lib).sort(), plain: Object.keys(plain).sort(), sameError: lib.AirlockError === errors.AirlockError, value: r.value }));
`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 90_000 });
  const r = JSON.parse(stdout) as { names: string[]; plain: string[]; sameError: boolean; value: unknown };
  t.deepEqual(r.names, r.plain);
  t.true(r.sameError);
  t.deepEqual(r.value, { message: 'hi' });
});
