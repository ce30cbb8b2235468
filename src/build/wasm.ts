/**
 * `airlock build <dir>` for wasm plugins: the plugin's entry -> a WASI 0.2
 * component exporting airlock:plugin/tools, cached by content hash.
 *
 *   entry .c            -> Debian clang --target=wasm32-wasi (wasi-libc, reactor), the
 *                          canonical-ABI header wit/c/airlock_tools.h, then embed the
 *                          world + wrap with jco's preview1 reactor adapter
 *   entry .js/.mjs      -> its imports bundled by esbuild (npm packages from the plugin's node_modules), then componentize-js
 *   entry .rs           -> cargo (Cargo.toml beside plugin.yaml) for wasm32-wasip2, crates vendored first (./rust.ts)
 *   entry .py           -> its requirements.txt / pyproject.toml wheels installed (./python-deps.ts), then componentize-py (CLI on PATH)
 *   entry .wasm         -> a component: used as is once it exports airlock:plugin/tools;
 *                          a core module: the world embedded + preview1 adapter
 *
 * Output: cacheDir('build', <hash>)/plugin.wasm where hash covers the plugin
 * folder (src/content-hash.ts), the world and this file's version, not the
 * toolchain: the toolchain's version is recorded beside the component, and
 * decides only whether to rebuild when that toolchain is found on PATH and
 * differs. Without it on PATH (a desktop app passes PATH=/usr/bin:/bin) the
 * component is served as built: running it needs no toolchain. A hit does no
 * work beyond hashing (the sources, and the component against its seal: a
 * damaged entry is discarded and rebuilt).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { discardEntry, readSealed, writeSeal } from '../cache-integrity.ts';
import { recordBuildRef } from './refs.ts';
import { hashTree } from '../content-hash.ts';
import { AirlockError } from '../errors.ts';
import { loadPluginOffThread } from '../manifest/off-thread.ts';
import { cacheDir } from '../paths.ts';
import { checkPluginFileSync, copyPluginTree, MAX_COMPONENT_BYTES, MAX_WIT_BYTES, readPluginFile } from '../plugin-files/index.ts';
import { TOOLS_CALL_CORE_EXPORT, TOOLS_INTERFACE, WIT_PATH, WIT_WORLD, WIT_WORLD_ID } from '../wit.ts';
import type { Explained } from './build-output.ts';
import { lazyModule } from '../lazy.ts';
import { JS_WRAPPER_FILE, jsWrapper, PY_WRAPPER_MODULE, pythonWrapper } from './guest-wrapper.ts';
import { findOnPath, runSandboxed, StepFailed, stepPath, type SandboxMounts } from './sandbox.ts';

/**
 * What only a build (or a Rust plugin) uses, loaded on first use: serving a cached component of a C plugin (a
 * fresh `airlock call`) loads no Rust, TOML, pip or error-explaining code (issue 21).
 */
const rust = lazyModule<typeof import('./rust.ts')>(import.meta.url, './rust');
const pythonDeps = lazyModule<typeof import('./python-deps.ts')>(import.meta.url, './python-deps');
const buildOutput = lazyModule<typeof import('./build-output.ts')>(import.meta.url, './build-output');

const run = promisify(execFile);
const requireFile = createRequire(import.meta.url);

/**
 * Bumped when build flags or the entry layout change, so old cache entries are not reused
 * (2: sealed entries; 3: every step sandboxed; 4: keyed without the toolchain, recorded in TOOLCHAIN_FILE; 5: the guest wrapper).
 * Not bumped for bundling JS dependencies: a plugin without node_modules is built from the same files.
 */
const BUILD_VERSION = '5';
/** The entry's record of the toolchain that built it (sealed with plugin.wasm). */
const TOOLCHAIN_FILE = 'toolchain';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const C_INCLUDE = join(ROOT, 'wit', 'c');

export interface BuildOptions {
  /** Entry file relative to dir; default: `entry` from dir/plugin.yaml. */
  entry?: string;
  /** Cache root (default cacheDir('build')). */
  cacheRoot?: string;
  /** Rebuild even when the cache has an entry. */
  force?: boolean;
  /** The environment whose PATH the toolchain is found on and built with (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Told when a build starts (not for a cache hit): progress for whoever waits on it. */
  onBuild?: (message: string) => void;
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

/**
 * build-failed for a toolchain's failure, cleaned (./build-output.ts): the plugin's position as a problem when
 * the output names one, a hint only when the output says what it is, the tool's own output in details.raw.
 */
function failExplained(what: string, tool: string, e: StepFailed, x: Explained): never {
  throw new AirlockError('build-failed', `${what}: ${tool} failed: ${x.message}${x.hint === undefined ? '' : `; ${x.hint}`}`, {
    cause: e,
    problems: x.problem === undefined ? [] : [x.problem],
    details: { file: what, raw: e.stderr },
  });
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
      const pkg = requireFile(f) as { name?: string; version?: string };
      if (pkg.name === name && typeof pkg.version === 'string') return pkg.version;
    }
    const up = dirname(d);
    if (up === d) throw new AirlockError('internal', `cannot find the version of ${name}`);
    d = up;
  }
}

/**
 * `<tool> --version`'s output on env's PATH; undefined when it is not there (or does not run). Remembered in
 * the cache per binary (its real path, device, inode, size and times): a fresh process serving a cached build
 * spawns no compiler to learn what it already knew, and a replaced binary is asked again.
 */
export async function commandVersion(tool: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const found = findOnPath(tool, env.PATH);
  if (found === null) return undefined;
  let memo: string | undefined;
  try {
    const real = await realpath(found);
    const s = await stat(real);
    memo = cacheDir(
      'build-toolchain',
      `version-${createHash('sha256')
        .update(JSON.stringify([tool, real, s.dev, s.ino, s.size, s.mtimeMs, s.ctimeMs]))
        .digest('hex')}`,
    );
    return (await readFile(memo, 'utf8')) || undefined;
  } catch {
    // Not remembered yet (or the binary went away meanwhile): ask it.
  }
  const v = (await run(tool, ['--version'], { env, timeout: 30_000 }).catch(() => undefined))?.stdout.trim();
  if (v !== undefined && v !== '' && memo !== undefined) {
    const tmp = `${memo}.tmp-${process.pid}`;
    // Its folder may not exist yet (a cache that never built a JS plugin): without it nothing was ever remembered.
    await mkdir(dirname(memo), { recursive: true, mode: 0o700 })
      .then(() => writeFile(tmp, v))
      .then(() => rename(tmp, memo))
      .catch(() => rm(tmp, { force: true }));
  }
  return v;
}

/** Found toolchains by kind and PATH; an absent one is looked for again (it may be installed while serving). */
const toolchains = new Map<string, string>();
/**
 * The toolchain that builds this kind of entry, as recorded with what it built; undefined when a tool
 * it runs from PATH is absent there (a cached component is then served as built: nothing could rebuild it).
 */
async function toolchainOf(kind: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const memo = `${kind}\0${env.PATH ?? ''}`;
  const known = toolchains.get(memo);
  if (known !== undefined) return known;
  let v: string | undefined;
  switch (kind) {
    case '.c':
      // The clang the build step runs: the sandbox's, found on its PATH.
      v = (await commandVersion('clang', { ...env, PATH: stepPath(env) }))?.split('\n')[0];
      if (v !== undefined) v = `clang ${v}`;
      break;
    case '.js':
    case '.mjs':
      v = `componentize-js ${packageVersion('@bytecodealliance/componentize-js')}`;
      break;
    case '.py':
      v = await commandVersion('componentize-py', env);
      if (v !== undefined) v = `componentize-py ${v}`;
      break;
    case '.rs':
      v = (await rust().findRustToolchain(env))?.version;
      break;
    default:
      v = 'none';
  }
  if (v === undefined) return undefined;
  v += ` jco ${packageVersion('@bytecodealliance/jco')}`;
  toolchains.set(memo, v);
  return v;
}

function isComponent(bytes: Uint8Array): boolean {
  // Header: \0asm, then version/layer: 0x0d 0x00 0x01 0x00 for components, 0x01 0x00 0x00 0x00 for core modules.
  return bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d && bytes[6] === 1 && bytes[7] === 0;
}
function isCoreModule(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d && bytes[4] === 1 && bytes[6] === 0 && bytes[7] === 0
  );
}

/**
 * A file a build step wrote: the step ran the plugin's code or directives, so
 * its output is read like a plugin's file (a regular file, bounded, not
 * through a link), never trusted to be what the toolchain should have made.
 */
async function readOutput(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readPluginFile(dirname(path), basename(path), { code: 'build-failed', maxBytes: MAX_COMPONENT_BYTES }));
}

/** The node_modules folder a package resolves in (the sandbox mounts it read-only). */
function nodeModulesOf(pkg: string): string {
  const file = fileURLToPath(import.meta.resolve(pkg));
  const i = file.lastIndexOf(`${sep}node_modules${sep}`);
  if (i === -1) throw new AirlockError('internal', `${pkg} is not under a node_modules folder (${file})`);
  return file.slice(0, i + '/node_modules'.length);
}

const CHILD_EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const COMPONENT_CHILD = fileURLToPath(new URL(`./component-child${CHILD_EXT}`, import.meta.url));
const COMPONENTIZE_JS_CHILD = fileURLToPath(new URL(`./componentize-js-child${CHILD_EXT}`, import.meta.url));
const BUNDLE_JS_CHILD = fileURLToPath(new URL(`./bundle-js-child${CHILD_EXT}`, import.meta.url));

/**
 * What a sandboxed node child needs to see, read-only: the Node binary's
 * folder, the children's own folder, Airlock's package.json (module type),
 * the world and the npm packages it runs.
 */
function nodeMounts(...packages: string[]): string[] {
  return [dirname(process.execPath), dirname(COMPONENT_CHILD), join(ROOT, 'package.json'), dirname(WIT_PATH), ...new Set(packages.map(nodeModulesOf))];
}

/**
 * Runs one build step in the sandbox (see ./sandbox.ts); a step that fails on
 * its own becomes build-failed from `onFail`, a limit it hits is named.
 */
async function step(
  file: string,
  args: string[],
  mounts: SandboxMounts,
  what: string,
  onFail: (e: StepFailed) => never,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  try {
    await runSandboxed(file, args, mounts, what, { env });
  } catch (e) {
    if (e instanceof StepFailed) onFail(e);
    throw e;
  }
}

/**
 * Throws build-failed unless the component at `path` (in the work folder)
 * exports airlock:plugin/tools; with `wrap`, `path` is a core module made
 * into a component at `wrap.out` first (world embed + preview1 reactor
 * adapter). jco parses plugin bytes: in a sandboxed child.
 */
export async function checkComponent(path: string, what: string, wrap?: { out: string }): Promise<void> {
  const jco = import.meta.resolve('@bytecodealliance/jco');
  const args = [COMPONENT_CHILD, jco, TOOLS_INTERFACE, ...(wrap === undefined ? ['check', path] : ['wrap', path, WIT_PATH, WIT_WORLD, wrap.out])];
  const mounts = { readOnly: [...nodeMounts('@bytecodealliance/jco'), path], writable: wrap === undefined ? [] : [dirname(wrap.out)], cwd: dirname(path) };
  await step(process.execPath, args, mounts, what, (e) => {
    if (e.exitCode === 3)
      fail(
        what,
        `the component does not export ${TOOLS_INTERFACE}`,
        'build it against the world in wit/airlock-plugin.wit (export tools with call(name, input))',
        e,
      );
    if (e.exitCode === 4 && wrap !== undefined) {
      fail(
        what,
        `cannot make a component from the core module (${e.message})`,
        `export \`${TOOLS_CALL_CORE_EXPORT}\` and \`cabi_realloc\` with the canonical ABI (see wit/c/airlock_tools.h), built for wasm32-wasip1 as a reactor`,
        e,
      );
    }
    if (e.exitCode === 4)
      fail(what, `not a valid WebAssembly component (${e.message})`, 'rebuild it for the airlock:plugin world in wit/airlock-plugin.wit', e);
    fail(what, `checking the component failed: ${e.message}`, 'rebuild it for the airlock:plugin world in wit/airlock-plugin.wit', e);
  });
}

async function buildC(dir: string, entry: string, work: string, env: NodeJS.ProcessEnv): Promise<Uint8Array> {
  const out = join(work, 'core.wasm');
  const what = join(dir, entry);
  const args = [
    '--target=wasm32-wasi',
    '--sysroot=/usr',
    /* Debian's wasi-libc lives in /usr/{include,lib}/wasm32-wasi */ '-O2',
    '-mexec-model=reactor',
    '-Wl,--strip-all',
    `-I${C_INCLUDE}`,
    '-o',
    out,
    // Relative (clang runs in dir): what assert() and __FILE__ print names the plugin's file, not a host path.
    entry,
  ];
  await step(
    'clang',
    args,
    { readOnly: [dir, C_INCLUDE], writable: [work], cwd: dir },
    what,
    (e) => {
      // Under bwrap a missing clang is bwrap's exec error, not ENOENT.
      if (e.notFound)
        fail(what, 'clang is not installed', 'install clang, lld and wasi-libc (Debian: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)', e);
      failExplained(what, 'clang', e, { message: `\n${buildOutput().cleanToolOutput(e.stderr)}`, hint: 'fix the compile errors above' });
    },
    env,
  );
  const component = join(work, 'component.wasm');
  await checkComponent(out, what, { out: component });
  return readOutput(component);
}

/**
 * wizer's compile cache for componentize-js (its SpiderMonkey engine is the same
 * wasm for every plugin: compiled once, ~20 s, instead of on every build).
 * Plugin builds see it read-only: it holds native code the next build runs, so
 * only a warm-up build of Airlock's own source below may write it.
 */
const WARM_SOURCE = 'export const tools = { call(name, input) { return input; } };\n';

async function componentizeJs(
  source: string,
  outDir: string,
  what: string,
  cache: { dir: string; writable: boolean },
  plugin?: { dir: string; entry: string },
): Promise<string> {
  const out = join(outDir, 'component.wasm');
  // In a child process: see componentize-js-child.ts.
  const args = [COMPONENTIZE_JS_CHILD, import.meta.resolve('@bytecodealliance/componentize-js'), source, WIT_PATH, WIT_WORLD, out, cache.dir];
  const mounts = {
    readOnly: [...nodeMounts('@bytecodealliance/componentize-js'), dirname(source), ...(cache.writable ? [] : [cache.dir])],
    writable: [outDir, ...(cache.writable ? [cache.dir] : [])],
    cwd: dirname(source),
  };
  await step(process.execPath, args, mounts, what, (e) =>
    failExplained(
      what,
      'componentize-js',
      e,
      buildOutput().explainComponentizeJs(plugin?.dir ?? dirname(source), plugin?.entry ?? basename(source), JS_WRAPPER_FILE, e.stderr),
    ),
  );
  return out;
}

/**
 * The entry with its imports (the plugin's own modules and npm packages in its node_modules) bundled into one
 * module by esbuild, in the sandbox (see bundle-js-child.ts: it parses, never runs, the plugin's files); the entry
 * itself when it imports nothing, so a single-file plugin is built from its own text.
 */
async function bundleJs(copy: string, entry: string, work: string, pluginDir: string): Promise<string | undefined> {
  const what = join(pluginDir, entry);
  const outDir = join(work, 'bundle');
  await mkdir(outDir);
  const out = join(outDir, basename(entry).replace(/\.[cm]?js$/, '.js'));
  const args = [BUNDLE_JS_CHILD, import.meta.resolve('esbuild'), copy, entry, out];
  let said = '';
  try {
    said = await runSandboxed(process.execPath, args, { readOnly: [...nodeMounts('esbuild'), copy], writable: [outDir], cwd: copy }, what);
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
    // The entry does not parse: built unbundled, so componentize-js reports it (with the line) as for any entry.
    if (e.exitCode === 3) return undefined;
    // esbuild names files relative to the folder it bundled: the plugin's own, copied.
    const lines = e.stderr
      .trim()
      .split('\n')
      .map((l) => (l.startsWith('/') ? l : join(pluginDir, l)));
    fail(what, `bundling its imports failed:\n${lines.join('\n')}`, "fix the imports above (npm dependencies go in the plugin's own node_modules)", e);
  }
  // An entry that imports nothing is built as it is, so its lines stay its own.
  return said.startsWith('bundle') ? out : undefined;
}

async function buildJs(dir: string, entry: string, work: string): Promise<Uint8Array> {
  const what = join(dir, entry);
  const cache = cacheDir('build-toolchain', `componentize-js-${packageVersion('@bytecodealliance/componentize-js')}`);
  if (!existsSync(join(cache, 'warm'))) {
    const warm = join(work, 'warm');
    await mkdir(join(cache, 'wasmtime'), { recursive: true });
    await mkdir(join(warm, 'out'), { recursive: true });
    await writeFile(join(warm, 'warm.js'), WARM_SOURCE);
    await componentizeJs(join(warm, 'warm.js'), join(warm, 'out'), `${what} (warming the componentize-js cache)`, { dir: cache, writable: true });
    await writeFile(join(cache, 'warm'), '');
    await rm(warm, { recursive: true, force: true });
  }
  const outDir = join(work, 'out');
  await mkdir(outDir);
  // Built from a copy with the guest wrapper beside it (./guest-wrapper.ts); frames then name the plugin's own relative paths.
  const src = join(work, 'src');
  await copyPluginTree(dir, src, { code: 'build-failed', ignore: (rel) => basename(rel) === '.git' });
  // An entry with imports is bundled (its npm dependencies included) in place of the copy's entry, which the wrapper imports.
  const bundled = await bundleJs(src, entry, work, dir);
  if (bundled !== undefined) await cp(bundled, join(src, entry));
  const wrapper = join(src, JS_WRAPPER_FILE);
  await writeFile(wrapper, guestWrapperOf(extname(entry).toLowerCase(), entry) ?? '');
  const out = await componentizeJs(wrapper, outDir, what, { dir: cache, writable: false }, { dir, entry });
  await checkComponent(out, what);
  return readOutput(out);
}

/**
 * componentize-py's -d/-w arguments. A plugin that imports WASI interfaces
 * directly (not through Python's stdlib) adds its own world in `<dir>/wit/*.wit`
 * that does `include airlock:plugin/plugin@0.1.0;` (componentize-py 0.25 panics
 * when merging worlds with several -w); WASI 0.2 WIT comes from jco's bundled copy.
 */
async function pythonWitArgs(dir: string, work: string): Promise<string[]> {
  const extra = existsSync(join(dir, 'wit')) ? (await readdir(join(dir, 'wit'))).filter((f) => f.endsWith('.wit')) : [];
  if (extra.length === 0) return ['-d', WIT_PATH, '-w', WIT_WORLD_ID];
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

/**
 * componentize-py's Python: the interpreter its script names and the prefixes
 * that interpreter needs (a venv's and its base), mounted read-only in the
 * sandbox. A pyenv shim is resolved to the script it runs.
 */
type ComponentizePy = { python: string; script: string; prefixes: string[] } | null;
/** By PATH. */
const componentizePys = new Map<string, Promise<ComponentizePy>>();
function findComponentizePy(env: NodeJS.ProcessEnv): Promise<ComponentizePy> {
  const key = env.PATH ?? '';
  let found = componentizePys.get(key);
  if (found !== undefined) return found;
  found = (async () => {
    let script = (await run('sh', ['-c', 'command -v componentize-py'], { env }).catch(() => ({ stdout: '' }))).stdout.trim();
    if (script === '') return null;
    let head = (await readFile(script, 'utf8').catch(() => '')).slice(0, 4096);
    if (head.includes('pyenv') && !head.startsWith('#!/usr/bin/env python')) {
      script = (await run('pyenv', ['which', 'componentize-py'], { env })).stdout.trim();
      head = (await readFile(script, 'utf8')).slice(0, 4096);
    }
    const shebang = /^#!\s*(\S+)(?:[ \t]+(\S+))?/.exec(head);
    if (shebang === null) return null;
    const python =
      shebang[1] === '/usr/bin/env' && shebang[2] !== undefined
        ? (await run('sh', ['-c', `command -v ${shebang[2]}`], { env })).stdout.trim()
        : (shebang[1] as string);
    const info = (await run(python, ['-c', 'import sys; print(sys.prefix); print(sys.base_prefix); print(sys.executable)'], { env })).stdout.trim().split('\n');
    return { python, script, prefixes: [...new Set([...info.slice(0, 2), dirname(python), dirname(script)])] };
  })();
  componentizePys.set(key, found);
  // A failed or empty look-up (pyenv missing, not installed yet, …) is tried again on the next build.
  found.then(
    (py) => {
      if (py === null) componentizePys.delete(key);
    },
    () => componentizePys.delete(key),
  );
  return found;
}

/** The module Airlock builds around a JavaScript or Python entry (./guest-wrapper.ts); undefined for other entries. */
function guestWrapperOf(ext: string, entry: string): string | undefined {
  if (ext === '.js' || ext === '.mjs') return jsWrapper(entry.split(sep).join('/'));
  if (ext === '.py') return pythonWrapper(pythonModule(entry), entry);
  return undefined;
}

function pythonModule(entry: string): string {
  return entry.replace(/\.py$/, '').replaceAll('/', '.');
}

async function buildPy(dir: string, entry: string, work: string, env: NodeJS.ProcessEnv): Promise<Uint8Array> {
  const what = join(dir, entry);
  const outDir = join(work, 'out');
  await mkdir(outDir);
  const out = join(outDir, 'component.wasm');
  // Built from a copy: componentize-py writes __pycache__ next to the sources (read-only in the sandbox, so it writes none).
  const src = join(work, 'src');
  await copyPluginTree(dir, src, { code: 'build-failed', ignore: (rel) => ['__pycache__', '.git'].includes(basename(rel)) });
  await writeFile(join(src, `${PY_WRAPPER_MODULE}.py`), guestWrapperOf('.py', entry) ?? '');
  const witArgs = await pythonWitArgs(dir, work);
  const py = await findComponentizePy(env);
  if (py === null) fail(what, 'componentize-py is not installed', 'pip install componentize-py');
  // requirements.txt / pyproject.toml: wheels installed into their own folder on the component's path (see ./python-deps.ts).
  const dependencies = existsSync(join(dir, 'plugin.yaml')) ? (await loadPluginOffThread(dir)).manifest.build?.dependencies : undefined;
  const site = await pythonDeps().installPythonDeps({ dir, src, work, python: py.python, prefixes: py.prefixes, dependencies, env });
  // The prefix (with its site-packages) is read-only: the plugin's pre-init code cannot plant a .pth there.
  const mounts = { readOnly: [...py.prefixes, src, ...(site === undefined ? [] : [site]), join(work, 'wit'), dirname(WIT_PATH)], writable: [outDir], cwd: src };
  await step(
    py.python,
    [py.script, ...witArgs, 'componentize', '-p', src, ...(site === undefined ? [] : ['-p', site]), PY_WRAPPER_MODULE, '-o', out],
    mounts,
    what,
    (e) => {
      if (e.notFound) fail(what, 'componentize-py is not installed', 'pip install componentize-py', e);
      failExplained(what, 'componentize-py', e, buildOutput().explainComponentizePy(dir, entry, `${PY_WRAPPER_MODULE}.py`, e.stderr));
    },
    env,
  );
  await checkComponent(out, what);
  return readOutput(out);
}

async function buildRustComponent(dir: string, entry: string, work: string, env: NodeJS.ProcessEnv): Promise<Uint8Array> {
  const out = await rust().buildRust(dir, entry, work, env);
  await checkComponent(out, join(dir, entry));
  return readOutput(out);
}

async function buildWasm(dir: string, entry: string, work: string): Promise<Uint8Array> {
  const file = join(dir, entry);
  const bytes = new Uint8Array(await readPluginFile(dir, entry, { code: 'build-failed', maxBytes: MAX_COMPONENT_BYTES }));
  const isComp = isComponent(bytes);
  if (!isComp && !isCoreModule(bytes))
    return fail(file, 'not a WebAssembly component or module', 'point `entry` at a .wasm component, a wasm32-wasip1 core module, or a .c/.js/.py source');
  // The sandbox checks the bytes read here, from a copy in the work folder (not the plugin's path, which may change under us).
  const copy = join(work, 'entry.wasm');
  await writeFile(copy, bytes);
  if (isComp) {
    await checkComponent(copy, file);
    return bytes;
  }
  const component = join(work, 'component.wasm');
  await checkComponent(copy, file, { out: component });
  return readOutput(component);
}

/**
 * A cache entry's state for the toolchain found now: 'fresh' when sealed and built by it (or none is found:
 * nothing could rebuild it), 'stale' when sealed but built by another version, undefined when missing or damaged.
 */
async function entryState(outDir: string, toolchain: string | undefined): Promise<'fresh' | 'stale' | undefined> {
  const files = await readSealed(outDir);
  if (files?.has('plugin.wasm') !== true) return undefined;
  return toolchain === undefined || files.get(TOOLCHAIN_FILE)?.toString('utf8') === toolchain ? 'fresh' : 'stale';
}

export async function buildPlugin(dir: string, options: BuildOptions = {}): Promise<BuildResult> {
  const env = options.env ?? process.env;
  const root = resolve(dir);
  const entry = options.entry ?? (await readEntry(root));
  const entryPath = join(root, entry);
  try {
    checkPluginFileSync(root, entry, 'build-failed');
  } catch (cause) {
    fail(
      entryPath,
      (cause as AirlockError).details.reason === 'missing' ? 'the entry file does not exist' : ((cause as AirlockError).problems[0]?.message ?? String(cause)),
      'fix `entry` in plugin.yaml',
      cause,
    );
  }
  const ext = extname(entry).toLowerCase();
  if (!['.c', '.js', '.mjs', '.py', '.rs', '.wasm'].includes(ext)) {
    fail(
      entryPath,
      `cannot build a ${ext || 'extension-less'} entry into a component`,
      'use a .c, .js/.mjs, .py or .rs (with Cargo.toml) source, or a prebuilt .wasm component',
    );
  }
  const hash = createHash('sha256')
    .update(`airlock-build ${BUILD_VERSION}\0entry ${entry}\0`)
    .update(await readFile(WIT_PATH))
    .update(ext === '.c' ? await readFile(join(C_INCLUDE, 'airlock_tools.h')) : '')
    // The guest wrapper built around the entry: a new wrapper is a new component.
    .update(guestWrapperOf(ext, entry) ?? '')
    // node_modules too: a JS entry's dependencies are bundled into the component (bounded like the rest of the folder).
    .update(
      await hashTree(root, {
        // A Rust plugin's target/ is cargo's output, and what its build leaves out (./rust.ts) is not in its key.
        // A signature (`airlock sign`, src/trust) is not code: signing a plugin must not rebuild it.
        ignore: (rel) => rel === '__pycache__' || rel === 'airlock.minisig' || (ext === '.rs' && rust().rustIgnored(rel)),
        hint: 'keep only what the component needs in its folder: for node_modules, `npm install --omit=dev`; move data out of the plugin folder',
      }),
    )
    .digest('hex');
  const outDir = join(options.cacheRoot ?? cacheDir('build'), hash);
  const componentPath = join(outDir, 'plugin.wasm');
  // What `airlock prune` keeps: the entry this folder's current source uses (./refs.ts), once it exists.
  const used = async (): Promise<void> => (options.cacheRoot === undefined ? recordBuildRef(root, hash) : undefined);
  const toolchain = await toolchainOf(ext, env);
  let replace = options.force === true;
  if (!replace && existsSync(outDir)) {
    const state = await entryState(outDir, toolchain);
    if (state === 'fresh') {
      await used();
      return { componentPath, hash, cached: true };
    }
    // Built by another version of the toolchain on PATH: rebuilt below, replacing it once the new one is sealed.
    if (state === 'stale') replace = true;
    // Truncated, garbled or partly deleted (see src/cache-integrity.ts): built again below.
    else await discardEntry(outDir);
  }
  // hashTree walked the folder with src/plugin-files: a symlink leading out of it, a FIFO or device was refused there,
  // before any toolchain reads the folder (componentize-py bundles all of it).

  options.onBuild?.(`building a component from ${entry}${toolchain === undefined || toolchain === 'none' ? '' : ` with ${toolchain}`}`);
  const work = `${outDir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await mkdir(work, { recursive: true });
  try {
    let component: Uint8Array;
    if (ext === '.c') component = await buildC(root, entry, work, env);
    else if (ext === '.js' || ext === '.mjs') component = await buildJs(root, entry, work);
    else if (ext === '.py') component = await buildPy(root, entry, work, env);
    else if (ext === '.rs') component = await buildRustComponent(root, entry, work, env);
    else component = await buildWasm(root, entry, work);
    // 'unknown' when the toolchain built but did not answer `--version`: a later look-up that gets a version rebuilds.
    const built = toolchain ?? 'unknown';
    // The steps' scratch (sources copied for componentize-py, intermediate modules) is not published: it would double each entry.
    for (const f of await readdir(work)) await rm(join(work, f), { recursive: true, force: true });
    await writeFile(join(work, 'plugin.wasm'), component);
    await writeFile(join(work, TOOLCHAIN_FILE), built);
    await writeSeal(work, { 'plugin.wasm': component, [TOOLCHAIN_FILE]: built });
    if (replace) await discardEntry(outDir);
    await rename(work, outDir).catch(async (e: unknown) => {
      // A concurrent build of the same sources by the same toolchain published first: its entry is as good as ours.
      if ((await entryState(outDir, toolchain)) === 'fresh') return;
      await discardEntry(outDir);
      await rename(work, outDir).catch(() => {
        throw e;
      });
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  await used();
  return { componentPath, hash, cached: false };
}
