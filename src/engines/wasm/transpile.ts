/**
 * Airlock's load step: a WASI 0.2 component -> jco instantiation-mode glue +
 * core modules, cached on disk by the component's content hash.
 *
 * API (consumed by ./index.ts as the default TranspileFn):
 *
 *   transpileComponent(componentPath: string, options?: TranspileOptions): Promise<TranspiledComponent>
 *   transpileComponentBytes(bytes: Uint8Array, options?: TranspileOptions): Promise<TranspiledComponent & { hash: string; cached: boolean }>
 *
 *   TranspiledComponent (./types.ts) = {
 *     glue: string;                          // absolute path of the ESM glue, <cacheDir('transpiled', hash)>/plugin.js,
 *                                            // exporting instantiate(getCoreModule, imports, instantiateCore?) (SYNC mode:
 *                                            // returns the exports object, no Promise, when instantiateCore is sync)
 *     modules: Record<string, Uint8Array>;   // core module bytes by the name the glue asks getCoreModule for
 *                                            // ('plugin.core.wasm', 'plugin.core2.wasm', ...); compile each ONCE on the host
 *   }
 *
 * The exports object has `tools` (and `'airlock:plugin/tools@0.1.0'`) with
 * `call(name, input)`: returns the JSON text, or throws the `{ code, message }`
 * tool-error record itself (jco-transpile 0.15; older jco wrapped it in a
 * ComponentError with `.payload`). A trap throws a WebAssembly.RuntimeError.
 *
 * Guarantees:
 *   - Always transpiled here from the component bytes; glue shipped by a plugin
 *     author is never run. The transpiler runs in a child process
 *     (./transpile-child.ts) with its heap, wasm memory and time bounded: the
 *     bytes are the plugin's, and the work is seconds of synchronous wasm. No option that assumes validity is used
 *     (validLiftingOptimization: false, no wasm-opt).
 *   - Instantiation mode: every import comes from the host's import object; jco's
 *     glue throws when an imported interface is missing (fails closed).
 *   - The component must export `airlock:plugin/tools` (else AirlockError 'build-failed').
 *   - jco's per-call `process.env.JCO_DEBUG` check in `_debugLog` is compiled
 *     out (a checked source rewrite: transpiling fails loudly if jco changes the
 *     pattern), which removes most of a small call's cost.
 *   - Cache: cacheDir('transpiled', <sha256 of component bytes + jco-transpile
 *     version + this file's rewrite version>). A hit reads files, no transpile;
 *     an entry whose files do not match its seal (truncated, garbled, partly
 *     deleted) is discarded and transpiled again.
 *   - In a process, a component loaded again whose file and cache entry have
 *     not changed since (same inode, size and nanosecond times) is served
 *     from memory: no reading and hashing of the entry per load (~3 ms of a
 *     cached component's cold start, issue 21).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageVersion } from '../../build/wasm.ts';
import { discardEntry, readSealed, writeSeal } from '../../cache-integrity.ts';
import { AirlockError } from '../../errors.ts';
import { fileIdentity } from '../../file-identity.ts';
import { cacheDir } from '../../paths.ts';
import { TOOLS_INTERFACE } from '../../wit.ts';
import type { TranspiledComponent } from './types.ts';

/** Bumped whenever the transpile options, the glue rewrite or the entry layout change (2: sealed entries, 3: imports.json). */
const REWRITE_VERSION = '3';

export interface TranspileOptions {
  /** Keep jco's JCO_DEBUG logging check (for measuring its cost). Default false. */
  keepDebugLog?: boolean;
  /** Cache root (default cacheDir('transpiled')). */
  cacheRoot?: string;
  /** Bound on the transpiler child (default TRANSPILE_TIMEOUT_MS). */
  timeoutMs?: number;
}

export interface TranspileResult extends TranspiledComponent {
  /** Cache key (hex sha256). */
  hash: string;
  /** True when served from the disk cache. */
  cached: boolean;
}

let jcoVersion: string | undefined;
function jcoTranspileVersion(): string {
  if (jcoVersion === undefined) {
    jcoVersion = packageVersion('@bytecodealliance/jco-transpile');
  }
  return jcoVersion;
}

// jco emits this in every generated glue; every tracing call site pays for the
// env lookup even when JCO_DEBUG is unset (~2.4 µs of a ~3.2 µs echo call).
const DEBUG_CHECK = /if \(!globalThis\?\.process\?\.env\?\.JCO_DEBUG\) \{ return; \}/g;

/** Compiles out jco's debug-log env check; throws if jco changed the pattern. */
export function stripDebugLog(glue: string): string {
  const matches = glue.match(DEBUG_CHECK)?.length ?? 0;
  if (matches === 0) {
    if (!glue.includes('JCO_DEBUG')) return glue; // no debug logging emitted at all
    throw new AirlockError(
      'internal',
      `jco-transpile ${jcoTranspileVersion()} emits its JCO_DEBUG check in a form src/engines/wasm/transpile.ts does not recognise; update DEBUG_CHECK`,
    );
  }
  const out = glue.replace(DEBUG_CHECK, 'return;');
  if (/process\??\.env\??\.JCO_DEBUG/.test(out)) {
    throw new AirlockError('internal', 'glue still reads process.env.JCO_DEBUG after rewriting; update DEBUG_CHECK in src/engines/wasm/transpile.ts');
  }
  return out;
}

/** A file's identity (../../file-identity.ts); undefined when it is gone. */
async function identity(path: string): Promise<string | undefined> {
  try {
    return fileIdentity(await stat(path, { bigint: true }));
  } catch {
    return undefined;
  }
}

/** The identities of every file of a folder (taken before reading them: a change after reading shows up as a mismatch later). */
async function identities(dir: string): Promise<Map<string, string | undefined>> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return new Map(await Promise.all(names.map(async (n) => [join(dir, n), await identity(join(dir, n))] as const)));
}

async function unchanged(files: ReadonlyMap<string, string | undefined>): Promise<boolean> {
  const now = await Promise.all([...files].map(async ([path, id]) => id !== undefined && (await identity(path)) === id));
  return now.every(Boolean);
}

/** Components this process transpiled or read from the cache lately, by path and options. */
const RECENT = 16;
const recent = new Map<string, { files: Map<string, string | undefined>; result: TranspileResult }>();

function remember(key: string, files: Map<string, string | undefined>, result: TranspileResult): void {
  recent.delete(key);
  for (const old of recent.keys()) {
    if (recent.size < RECENT) break;
    recent.delete(old);
  }
  recent.set(key, { files, result });
}

/** A cache entry whose files all match its seal; a damaged or unsealed one is discarded (and so rebuilt). */
async function readCached(dir: string): Promise<TranspiledComponent | undefined> {
  if (!existsSync(dir)) return undefined;
  const files = await readSealed(dir);
  const imports = parseImports(files?.get(IMPORTS));
  if (files === undefined || !files.has('plugin.js') || imports === undefined) {
    await discardEntry(dir);
    return undefined;
  }
  const modules: Record<string, Uint8Array> = {};
  for (const [n, data] of files) if (n.endsWith('.wasm')) modules[n] = new Uint8Array(data);
  return { glue: join(dir, 'plugin.js'), glueSource: (files.get('plugin.js') as Buffer).toString('utf8'), modules, imports };
}

const IMPORTS = 'imports.json';

/** The imported interface names jco listed (a JSON array of strings), or undefined when it is not that. */
function parseImports(data: Buffer | undefined): string[] | undefined {
  if (data === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(data.toString('utf8'));
    return Array.isArray(v) && v.every((i) => typeof i === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The cache key of a component's transpiled entry (also what `airlock prune` keeps for the components in use). */
export function transpileKey(bytes: Uint8Array, keepDebugLog = false): string {
  return createHash('sha256')
    .update(`jco-transpile ${jcoTranspileVersion()} rewrite ${REWRITE_VERSION} debug ${keepDebugLog ? 1 : 0}\0`)
    .update(bytes)
    .digest('hex');
}

export async function transpileComponentBytes(bytes: Uint8Array, options: TranspileOptions = {}): Promise<TranspileResult> {
  const keep = options.keepDebugLog === true;
  const hash = transpileKey(bytes, keep);
  const root = options.cacheRoot ?? cacheDir('transpiled');
  const dir = join(root, hash);
  const hit = await readCached(dir);
  if (hit !== undefined) return { ...hit, hash, cached: true };

  // Written to a temporary folder then renamed, so a concurrent reader never sees half a cache entry.
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await mkdir(tmp, { recursive: true });
  try {
    const input = join(tmp, INPUT);
    await writeFile(input, bytes);
    await runChild(input, tmp, options.timeoutMs ?? TRANSPILE_TIMEOUT_MS);
    await rm(input);
    const exported = JSON.parse(await readFile(join(tmp, 'exports.json'), 'utf8')) as string[];
    await rm(join(tmp, 'exports.json'));
    if (!exported.some((name) => name === TOOLS_INTERFACE || name.startsWith(`${TOOLS_INTERFACE}@`))) {
      throw new AirlockError(
        'build-failed',
        `the component does not export ${TOOLS_INTERFACE} (it exports: ${exported.join(', ') || 'nothing'}); build it against the world in wit/airlock-plugin.wit`,
      );
    }
    const importsText = await readFile(join(tmp, IMPORTS));
    const imports = parseImports(importsText);
    if (imports === undefined) throw new AirlockError('internal', 'jco-transpile listed no imports');
    const modules: Record<string, Uint8Array> = {};
    for (const name of await readdir(tmp)) if (name.endsWith('.wasm')) modules[name] = new Uint8Array(await readFile(join(tmp, name)));
    let glue = await readFile(join(tmp, 'plugin.js'), 'utf8').catch(() => {
      throw new AirlockError('internal', 'jco-transpile produced no plugin.js');
    });
    if (!keep) {
      glue = stripDebugLog(glue);
      await writeFile(join(tmp, 'plugin.js'), glue);
    }
    // The glue is ESM; mark its folder as such so Node never guesses.
    await writeFile(join(tmp, 'package.json'), '{"type":"module"}\n');
    // Last: an entry whose files do not match it is treated as absent (see src/cache-integrity.ts).
    await writeSeal(tmp, { ...modules, 'plugin.js': glue, [IMPORTS]: importsText });
    await mkdir(dirname(dir), { recursive: true });
    await rename(tmp, dir).catch(() => {
      // Another process won the race; its entry is identical. Ours is removed below.
    });
    return { glue: join(dir, 'plugin.js'), glueSource: glue, modules, imports, hash, cached: false };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

const INPUT = 'component.input.wasm';
const CHILD = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './transpile-child.ts' : './transpile-child.js', import.meta.url));
/** jco's heap and wasm memory in the child: an 18 MB component needs ~300 MiB in all. */
export const TRANSPILE_HEAP_MB = 1024;
export const TRANSPILE_WASM_PAGES = 32_768; // 2 GiB
/** A safety bound for a transpile that never ends; a large component takes seconds. */
export const TRANSPILE_TIMEOUT_MS = 5 * 60_000;

/** The transpiler in a child process, bounded in memory and time (see ./transpile-child.ts). */
function runChild(input: string, out: string, timeoutMs: number): Promise<void> {
  const args = [`--max-old-space-size=${TRANSPILE_HEAP_MB}`, `--wasm-max-mem-pages=${TRANSPILE_WASM_PAGES}`, CHILD, input, out];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env: {}, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (err, _stdout, stderr) => {
      if (err === null) return resolve();
      const e = err as Error & { killed?: boolean; code?: unknown; signal?: string | null };
      const said = stderr.trim().split('\n').slice(-5).join('\n');
      if (e.killed === true && e.signal === 'SIGKILL' && said === '') {
        return reject(
          new AirlockError('build-failed', `transpiling the component took longer than ${timeoutMs} ms; check the component, or report it with the file`, {
            cause: err,
          }),
        );
      }
      if (/out of memory|Allocation failed|RangeError: WebAssembly\.Memory/i.test(said)) {
        return reject(
          new AirlockError(
            'build-failed',
            `transpiling the component needed more memory than allowed (${TRANSPILE_HEAP_MB} MiB heap, ${(TRANSPILE_WASM_PAGES * 64) >> 10} MiB wasm memory)`,
            { cause: err },
          ),
        );
      }
      reject(
        new AirlockError(
          'build-failed',
          `not a valid WebAssembly component: ${said || e.message}; build it for the airlock:plugin world (wit/airlock-plugin.wit)`,
          { cause: err },
        ),
      );
    });
  });
}

export async function transpileComponent(componentPath: string, options: TranspileOptions = {}): Promise<TranspileResult> {
  const key = JSON.stringify([componentPath, options.cacheRoot ?? null, options.keepDebugLog === true]);
  const seen = recent.get(key);
  if (seen !== undefined && (await unchanged(seen.files))) {
    remember(key, seen.files, seen.result);
    return { ...seen.result, cached: true };
  }
  const component = await identity(componentPath);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(componentPath));
  } catch (cause) {
    throw new AirlockError(
      'not-found',
      `cannot read component ${componentPath}: ${(cause as Error).message}; run \`airlock build\` on the plugin folder first`,
      { cause },
    );
  }
  const hash = transpileKey(bytes, options.keepDebugLog === true);
  const dir = join(options.cacheRoot ?? cacheDir('transpiled'), hash);
  const entry = await identities(dir);
  const result = await transpileComponentBytes(bytes, options);
  // Freshly written: its files as they are now.
  const files = result.cached && entry.size > 0 ? entry : await identities(dir);
  files.set(componentPath, component);
  remember(key, files, result);
  return result;
}

export default transpileComponent;
