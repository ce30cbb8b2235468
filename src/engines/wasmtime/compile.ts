/**
 * Ahead-of-time compilation: `wasmtime compile` once per component and
 * wasmtime version, cached as cacheDir('wasmtime', version, sha256 + '.cwasm').
 * Only files this module wrote are ever run with `--allow-precompiled` (the
 * flag trusts its input), and the component is checked to export
 * airlock:plugin/tools before it is compiled.
 */
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sha256 } from '../../cache-integrity.ts';
import { AirlockError } from '../../errors.ts';
import { cacheDir } from '../../paths.ts';
import { TOOLS_INTERFACE_VERSIONED } from '../../wit.ts';

/**
 * Compile-time settings every `run` must match (wasmtime refuses a .cwasm
 * built with a different engine configuration): `-W timeout` at run time
 * needs epoch interruption compiled in.
 */
export const COMPILE_ARGS: readonly string[] = ['-W', 'epoch-interruption=y'];

const COMPONENT_HEADER = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00);

/** The cache key of a component's .cwasm (also what `airlock prune` keeps for the components in use). */
export function cwasmKey(bytes: Uint8Array): string {
  // `sealed`: entries carry the .cwasm's sha256 (older entries, without it, are not reused).
  return createHash('sha256')
    .update(bytes)
    .update(`\0${COMPILE_ARGS.join(' ')}\0sealed`)
    .digest('hex');
}

export function cwasmPath(version: string, componentHash: string): string {
  return cacheDir('wasmtime', version, `${componentHash}.cwasm`);
}

/** Checks that `bytes` is a component exporting airlock:plugin/tools and returns its imports (`wasi:cli/stdout@0.2.0`, …); throws build-failed naming the file. */
export async function checkComponent(componentPath: string, bytes: Uint8Array): Promise<string[]> {
  if (bytes.length < 8 || !COMPONENT_HEADER.every((b, i) => bytes[i] === b)) {
    throw new AirlockError('build-failed', `${componentPath} is not a WebAssembly component (a core module or another file?); build it with \`airlock build\``);
  }
  const { componentWit } = await import('@bytecodealliance/jco-transpile/wasm-tools');
  let wit: string;
  try {
    wit = await componentWit(bytes);
  } catch (e) {
    throw new AirlockError('build-failed', `${componentPath} is not a valid component: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (!new RegExp(`^[ \\t]*export ${TOOLS_INTERFACE_VERSIONED.replace(/[.]/g, '\\.')};`, 'm').test(wit)) {
    throw new AirlockError(
      'build-failed',
      `${componentPath} does not export ${TOOLS_INTERFACE_VERSIONED} (see wit/); it exports:\n${
        wit
          .split('\n')
          .filter((l) => /^[ \t]*export /.test(l))
          .join('\n') || '  nothing'
      }`,
    );
  }
  return [...wit.matchAll(/^[ \t]*import ([^;]+);/gm)].map((m) => (m[1] ?? '').trim());
}

/**
 * Interfaces `wasmtime run` 48 links for a component under Airlock's flags
 * (the WASI 0.2 CLI world, plus wasi:http when the network capability turns
 * it on). Any 0.2.x version matches: the linker resolves semver-compatible
 * imports.
 */
const PROVIDED = /^wasi:(cli|io|clocks|filesystem|random|sockets|http)\/[a-z-]+(@0\.2\.\d+)?$/;

/** Imports outside what wasmtime can link: the engine refuses such a component (build-failed). */
export function unlinkableImports(imports: readonly string[]): string[] {
  return imports.filter((i) => !PROVIDED.test(i));
}

function run(binary: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { env: { RUST_BACKTRACE: '0' }, timeout: 10 * 60_000, maxBuffer: 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err === null) resolve();
      else reject(new Error(`${stderr.trim() || err.message}`));
    });
  });
}

/** What a cached compile is checked against: the `.cwasm`'s sha256, and the component's imports. */
interface CompileMeta {
  imports: string[];
  cwasmSha256: string;
}

async function readMeta(meta: string): Promise<CompileMeta | undefined> {
  try {
    const m = JSON.parse(await readFile(meta, 'utf8')) as Partial<CompileMeta> | null;
    if (m === null || typeof m.cwasmSha256 !== 'string' || !Array.isArray(m.imports) || !m.imports.every((i) => typeof i === 'string')) return undefined;
    return { imports: m.imports, cwasmSha256: m.cwasmSha256 };
  } catch {
    return undefined;
  }
}

/** Identity of the file that was verified: a later call re-verifies when it changed (deleted, rewritten, replaced). */
export interface CwasmStamp {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

export async function cwasmStamp(path: string): Promise<CwasmStamp | undefined> {
  try {
    const s = await stat(path);
    return { dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
  } catch {
    return undefined;
  }
}

export function sameStamp(a: CwasmStamp | undefined, b: CwasmStamp | undefined): boolean {
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/**
 * The path of the precompiled component and its imports, compiling it when
 * the cache lacks it. The imports and the `.cwasm`'s sha256 are kept beside
 * it (`.imports.json`), so a cached load needs no component parsing, and a
 * `.cwasm` that does not match (truncated, garbled: `--allow-precompiled`
 * would run it unchecked) is compiled again instead. Concurrent loads of one
 * component may both compile; the atomic renames make that harmless.
 */
export async function precompile(
  binary: string,
  version: string,
  componentPath: string,
): Promise<{ cwasm: string; hash: string; compiled: boolean; imports: string[]; stamp: CwasmStamp }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(componentPath);
  } catch (e) {
    throw new AirlockError('not-found', `component ${componentPath} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  const hash = cwasmKey(bytes);
  const out = cwasmPath(version, hash);
  const meta = out.replace(/\.cwasm$/, '.imports.json');
  const known = await readMeta(meta);
  if (known !== undefined) {
    // Stamped before reading, so a change after the check shows at the next call's stamp comparison.
    const stamp = await cwasmStamp(out);
    const compiled = await readFile(out).catch(() => undefined);
    if (stamp !== undefined && compiled !== undefined && sha256(compiled) === known.cwasmSha256)
      return { cwasm: out, hash, compiled: false, imports: known.imports, stamp };
  }
  const imports = await checkComponent(componentPath, bytes);
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.${randomUUID()}.tmp`;
  let digest: string;
  try {
    await run(binary, ['compile', ...COMPILE_ARGS, componentPath, '-o', tmp]);
    digest = sha256(await readFile(tmp));
    // The meta first: a reader that sees the new .cwasm also finds its digest (a stale one only costs a compile).
    const metaTmp = `${meta}.${randomUUID()}.tmp`;
    await writeFile(metaTmp, JSON.stringify({ imports, cwasmSha256: digest } satisfies CompileMeta));
    await rename(metaTmp, meta);
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new AirlockError('build-failed', `wasmtime compile ${componentPath} failed: ${(e as Error).message}`, { cause: e });
  }
  const stamp = await cwasmStamp(out);
  if (stamp === undefined)
    throw new AirlockError('build-failed', `${out} vanished right after it was compiled; check what else writes to the cache folder ${dirname(out)}`);
  return { cwasm: out, hash, compiled: true, imports, stamp };
}
