/**
 * `airlock build <dir>` for wasm plugins: the plugin's entry -> a WASI 0.2
 * component exporting airlock:plugin/tools, cached by content hash.
 *
 *   entry .c            -> Debian clang --target=wasm32-wasi (wasi-libc, reactor), the
 *                          canonical-ABI header wit/c/airlock_tools.h, then embed the
 *                          world + wrap with jco's preview1 reactor adapter
 *   entry .js/.mjs      -> componentize-js
 *   entry .py           -> componentize-py (CLI on PATH)
 *   entry .wasm         -> a component: used as is once it exports airlock:plugin/tools;
 *                          a core module: the world embedded + preview1 adapter
 *
 * Output: cacheDir('build', <hash>)/plugin.wasm where hash covers the plugin
 * folder (src/content-hash.ts), the world, this file's version and the
 * toolchain versions. A hit does no work beyond hashing (the sources, and
 * the component against its seal: a damaged entry is discarded and rebuilt).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { discardEntry, readSealed, writeSeal } from '../cache-integrity.ts';
import { hashTree } from '../content-hash.ts';
import { AirlockError } from '../errors.ts';
import { loadPluginOffThread } from '../manifest/index.ts';
import { cacheDir } from '../paths.ts';
import { checkPluginFileSync, copyPluginTree, MAX_COMPONENT_BYTES, MAX_WIT_BYTES, readPluginFile } from '../plugin-files/index.ts';
import { sandboxed } from './sandbox.ts';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

/** Bumped when build flags or the entry layout change, so old cache entries are not reused (2: sealed entries). */
const BUILD_VERSION = '2';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const WIT_PATH = join(ROOT, 'wit', 'airlock-plugin.wit');
const C_INCLUDE = join(ROOT, 'wit', 'c');
export const TOOLS_EXPORT = 'airlock:plugin/tools';

export interface BuildOptions {
  /** Entry file relative to dir; default: `entry` from dir/plugin.yaml. */
  entry?: string;
  /** Cache root (default cacheDir('build')). */
  cacheRoot?: string;
  /** Rebuild even when the cache has an entry. */
  force?: boolean;
}

export interface BuildResult {
  /** Absolute path of the component (inside the cache). */
  componentPath: string;
  /** Cache key (hex sha256). */
  hash: string;
  /** True when nothing was built. */
  cached: boolean;
}

function fail(file: string, message: string, fix: string, cause?: unknown): never {
  throw new AirlockError('build-failed', `${file}: ${message}; ${fix}`, { cause, details: { file } });
}

/** The entry named by plugin.yaml: read and checked by the one manifest reader (src/manifest/load.ts, off the main thread). */
async function readEntry(dir: string): Promise<string> {
  return (await loadPluginOffThread(dir)).manifest.entry;
}

/** Version of an installed package (its package.json may not be in `exports`). */
export function packageVersion(name: string): string {
  let d = dirname(fileURLToPath(import.meta.resolve(name)));
  for (;;) {
    const f = join(d, 'package.json');
    if (existsSync(f)) {
      const pkg = require(f) as { name?: string; version?: string };
      if (pkg.name === name && typeof pkg.version === 'string') return pkg.version;
    }
    const up = dirname(d);
    if (up === d) throw new AirlockError('internal', `cannot find the version of ${name}`);
    d = up;
  }
}

const versions = new Map<string, string>();
async function toolVersion(kind: string): Promise<string> {
  const known = versions.get(kind);
  if (known !== undefined) return known;
  let v: string;
  switch (kind) {
    case '.c':
      v = `clang ${(await run('clang', ['--version']).catch(() => ({ stdout: 'missing' }))).stdout.split('\n')[0]}`;
      break;
    case '.js':
    case '.mjs':
      v = `componentize-js ${packageVersion('@bytecodealliance/componentize-js')}`;
      break;
    case '.py':
      v = `componentize-py ${(await run('componentize-py', ['--version']).catch(() => ({ stdout: 'missing' }))).stdout.trim()}`;
      break;
    default:
      v = 'none';
  }
  v += ` jco ${packageVersion('@bytecodealliance/jco')}`;
  versions.set(kind, v);
  return v;
}

function isComponent(bytes: Uint8Array): boolean {
  // Header: \0asm, then version/layer: 0x0d 0x00 0x01 0x00 for components, 0x01 0x00 0x00 0x00 for core modules.
  return bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d && bytes[6] === 1 && bytes[7] === 0;
}
function isCoreModule(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d && bytes[4] === 1 && bytes[6] === 0 && bytes[7] === 0;
}

/** Throws build-failed unless the component exports airlock:plugin/tools. */
export async function checkExportsTools(bytes: Uint8Array, file: string): Promise<void> {
  const { componentWit } = await import('@bytecodealliance/jco');
  let wit: string;
  try {
    wit = await componentWit(bytes);
  } catch (cause) {
    return fail(file, `not a valid WebAssembly component (${(cause as Error).message})`, 'rebuild it for the airlock:plugin world in wit/airlock-plugin.wit', cause);
  }
  if (!/^[ \t]*export airlock:plugin\/tools(@[^;\s]+)?;/m.test(wit)) {
    return fail(file, `the component does not export ${TOOLS_EXPORT}`, 'build it against the world in wit/airlock-plugin.wit (export tools with call(name, input))');
  }
}

/** World embed + preview1 reactor adapter: a wasm32-wasip1 core module -> component. */
export async function wrapCoreModule(core: Uint8Array, file: string): Promise<Uint8Array> {
  const { componentEmbed, componentNew, preview1AdapterReactorPath } = await import('@bytecodealliance/jco');
  try {
    const embedded = await componentEmbed({ binary: core, witSource: await readFile(WIT_PATH, 'utf8'), world: 'plugin' });
    const adapter = await readFile(preview1AdapterReactorPath());
    return await componentNew(embedded, [['wasi_snapshot_preview1', adapter]]);
  } catch (cause) {
    return fail(
      file,
      `cannot make a component from the core module (${(cause as Error).message})`,
      'export `airlock:plugin/tools@0.1.0#call` and `cabi_realloc` with the canonical ABI (see wit/c/airlock_tools.h), built for wasm32-wasip1 as a reactor',
      cause,
    );
  }
}

async function buildC(dir: string, entry: string, work: string): Promise<Uint8Array> {
  const out = join(work, 'core.wasm');
  const clang = sandboxed(
    'clang',
    [
      '--target=wasm32-wasi',
      '--sysroot=/usr', // Debian's wasi-libc lives in /usr/{include,lib}/wasm32-wasi
      '-O2',
      '-mexec-model=reactor',
      '-Wl,--strip-all',
      `-I${C_INCLUDE}`,
      '-o',
      out,
      join(dir, entry),
    ],
    { readOnly: [dir, C_INCLUDE], writable: [work], cwd: dir },
    join(dir, entry),
  );
  try {
    await run(clang.file, clang.args, { cwd: dir, timeout: 10 * 60_000 });
  } catch (cause) {
    const e = cause as { stderr?: string; code?: unknown };
    // Under bwrap a missing clang is bwrap's exec error, not ENOENT.
    if (e.code === 'ENOENT' || /execvp clang: No such file/.test(e.stderr ?? '')) fail(join(dir, entry), 'clang is not installed', 'install clang, lld and wasi-libc (Debian: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)', cause);
    fail(join(dir, entry), `clang failed:\n${e.stderr ?? String(cause)}`, 'fix the compile errors above', cause);
  }
  return wrapCoreModule(new Uint8Array(await readFile(out)), join(dir, entry));
}

const COMPONENTIZE_JS_CHILD = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './componentize-js-child.ts' : './componentize-js-child.js', import.meta.url));

async function buildJs(dir: string, entry: string, work: string): Promise<Uint8Array> {
  const out = join(work, 'componentize-js.wasm');
  try {
    // In a child process: see componentize-js-child.ts. Bounded like any build step.
    await run(process.execPath, [COMPONENTIZE_JS_CHILD, join(dir, entry), WIT_PATH, 'plugin', out], { cwd: dir, timeout: 10 * 60_000, maxBuffer: 16 << 20 });
  } catch (cause) {
    const e = cause as { stderr?: string };
    const detail = (e.stderr ?? '').trim().split('\n').slice(-15).join('\n') || (cause as Error).message;
    return fail(join(dir, entry), `componentize-js failed: ${detail}`, 'export `tools` with `call(name, input)` returning a string (see fixtures/plugins/echo-js/echo.js)', cause);
  }
  const component = new Uint8Array(await readFile(out));
  await rm(out, { force: true });
  return component;
}

/**
 * componentize-py's -d/-w arguments. A plugin that imports WASI interfaces
 * directly (not through Python's stdlib) adds its own world in `<dir>/wit/*.wit`
 * that does `include airlock:plugin/plugin@0.1.0;` (componentize-py 0.25 panics
 * when merging worlds with several -w); WASI 0.2 WIT comes from jco's bundled copy.
 */
async function pythonWitArgs(dir: string, work: string): Promise<string[]> {
  const extra = existsSync(join(dir, 'wit')) ? (await readdir(join(dir, 'wit'))).filter((f) => f.endsWith('.wit')) : [];
  if (extra.length === 0) return ['-d', WIT_PATH, '-w', 'airlock:plugin/plugin'];
  const wit = join(work, 'wit');
  await mkdir(join(wit, 'deps', 'airlock-plugin'), { recursive: true });
  await cp(WIT_PATH, join(wit, 'deps', 'airlock-plugin', 'airlock-plugin.wit'));
  const wasiWit = fileURLToPath(new URL('../lib/wit/builtin/0.2.12/', import.meta.resolve('@bytecodealliance/jco')));
  for (const pkg of await readdir(wasiWit)) if (pkg.startsWith('wasi-')) await cp(join(wasiWit, pkg), join(wit, 'deps', pkg), { recursive: true });
  const worlds: string[] = [];
  for (const f of extra) {
    const text = (await readPluginFile(dir, `wit/${f}`, { code: 'build-failed', maxBytes: MAX_WIT_BYTES })).toString('utf8');
    await writeFile(join(wit, f), text);
    const pkg = /^[ \t]*package[ \t]+([^;@\s]+)/m.exec(text)?.[1];
    if (pkg === undefined) fail(join(dir, 'wit', f), 'no `package` line', 'start the file with `package <namespace>:<name>;`');
    for (const m of text.matchAll(/^[ \t]*world[ \t]+([\w-]+)/gm)) worlds.push('-w', `${pkg}/${m[1]}`);
  }
  return ['-d', wit, ...worlds];
}

async function buildPy(dir: string, entry: string, work: string): Promise<Uint8Array> {
  const out = join(work, 'component.wasm');
  const module = entry.replace(/\.py$/, '').replaceAll('/', '.');
  // Built from a copy: componentize-py writes __pycache__ next to the sources.
  const src = join(work, 'src');
  await copyPluginTree(dir, src, { code: 'build-failed', ignore: (rel) => ['__pycache__', '.git'].includes(basename(rel)) });
  try {
    const witArgs = await pythonWitArgs(dir, work);
    await run('componentize-py', [...witArgs, 'componentize', '-p', src, module, '-o', out], { cwd: src, maxBuffer: 16 << 20 });
  } catch (cause) {
    const e = cause as { stderr?: string; code?: unknown };
    if (e.code === 'ENOENT') fail(join(dir, entry), 'componentize-py is not installed', 'pip install componentize-py', cause);
    fail(join(dir, entry), `componentize-py failed:\n${e.stderr ?? String(cause)}`, 'define class Tools with call(self, name, input) -> str (see fixtures/plugins/echo-py)', cause);
  }
  return new Uint8Array(await readFile(out));
}

async function buildWasm(dir: string, entry: string): Promise<Uint8Array> {
  const file = join(dir, entry);
  const bytes = new Uint8Array(await readPluginFile(dir, entry, { code: 'build-failed', maxBytes: MAX_COMPONENT_BYTES }));
  if (isComponent(bytes)) {
    await checkExportsTools(bytes, file);
    return bytes;
  }
  if (isCoreModule(bytes)) return wrapCoreModule(bytes, file);
  return fail(file, 'not a WebAssembly component or module', 'point `entry` at a .wasm component, a wasm32-wasip1 core module, or a .c/.js/.py source');
}

export async function buildPlugin(dir: string, options: BuildOptions = {}): Promise<BuildResult> {
  const root = resolve(dir);
  const entry = options.entry ?? (await readEntry(root));
  const entryPath = join(root, entry);
  try {
    checkPluginFileSync(root, entry, 'build-failed');
  } catch (cause) {
    fail(entryPath, (cause as AirlockError).details.reason === 'missing' ? 'the entry file does not exist' : (cause as AirlockError).problems[0]?.message ?? String(cause), 'fix `entry` in plugin.yaml', cause);
  }
  const ext = extname(entry).toLowerCase();
  if (!['.c', '.js', '.mjs', '.py', '.wasm'].includes(ext)) {
    fail(entryPath, `cannot build a ${ext || 'extension-less'} entry into a component`, 'use a .c, .js/.mjs or .py source, or a prebuilt .wasm component');
  }
  const hash = createHash('sha256')
    .update(`airlock-build ${BUILD_VERSION}\0entry ${entry}\0${await toolVersion(ext)}\0`)
    .update(await readFile(WIT_PATH))
    .update(ext === '.c' ? await readFile(join(C_INCLUDE, 'airlock_tools.h')) : '')
    .update(await hashTree(root, { ignore: (rel) => rel === 'node_modules' || rel === '__pycache__' }))
    .digest('hex');
  const outDir = join(options.cacheRoot ?? cacheDir('build'), hash);
  const componentPath = join(outDir, 'plugin.wasm');
  if (options.force !== true && existsSync(outDir)) {
    if ((await readSealed(outDir))?.has('plugin.wasm') === true) return { componentPath, hash, cached: true };
    // Truncated, garbled or partly deleted (see src/cache-integrity.ts): built again below.
    await discardEntry(outDir);
  }
  // hashTree walked the folder with src/plugin-files: a symlink leading out of it, a FIFO or device was refused there,
  // before any toolchain reads the folder (componentize-py bundles all of it).

  const work = `${outDir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await mkdir(work, { recursive: true });
  try {
    let component: Uint8Array;
    if (ext === '.c') component = await buildC(root, entry, work);
    else if (ext === '.js' || ext === '.mjs') component = await buildJs(root, entry, work);
    else if (ext === '.py') component = await buildPy(root, entry, work);
    else component = await buildWasm(root, entry);
    if (ext !== '.wasm') await checkExportsTools(component, entryPath);
    await writeFile(join(work, 'plugin.wasm'), component);
    await writeSeal(work, { 'plugin.wasm': component });
    if (options.force === true) await discardEntry(outDir);
    await rename(work, outDir).catch(async (e: unknown) => {
      // A concurrent build of the same sources published first: its entry is as good as ours when sealed.
      if ((await readSealed(outDir))?.has('plugin.wasm') === true) return;
      await discardEntry(outDir);
      await rename(work, outDir).catch(() => {
        throw e;
      });
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { componentPath, hash, cached: false };
}
