/**
 * Loads Airlock's bundle (dist/bundle/airlock.cjs, made by
 * scripts/bundle.ts): what `airlock` (bin/airlock.js) and `import('airlock')`
 * run once installed. One file rather than ~140 modules, compiled with V8's
 * code cache of an earlier process that ran the same `purpose` (a command,
 * or the library): that cache is made at exit, so it holds every function
 * the purpose ran, and a fresh `airlock call` compiles almost nothing
 * (issue 21). Without a usable cache root it loads all the same, compiling.
 *
 * This module, ./code-cache.ts, ./paths.ts and ./errors.ts are loaded from
 * dist/ and shared with the bundle, which requires them rather than holding
 * copies (one AirlockError class per process).
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script, constants } from 'node:vm';
import { readCodeCache, writeCodeCache } from './code-cache.ts';
import { cacheDir } from './paths.ts';

/** The bundle's first line: `// airlock-bundle <sha256 of the rest>` (scripts/bundle.ts). */
const HEADER = /^\/\/ airlock-bundle ([0-9a-f]{64})\n/;

/** Where the bundle is: beside dist/'s modules. */
export const BUNDLE_FILE = fileURLToPath(new URL('./bundle/airlock.cjs', import.meta.url));

/** The parameters the bundle's code is wrapped in: CommonJS's, and what stands for `import.meta` (scripts/bundle.ts). */
const WRAPPER = '(function (exports, require, module, __filename, __dirname, __airlockBundleUrl, __airlockResolve) {';

/** The hash an installed bundle names on its first line; undefined without one (a checkout runs src/). */
export function bundleHash(file = BUNDLE_FILE): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(100);
    return HEADER.exec(head.toString('latin1', 0, readSync(fd, head, 0, head.length, 0)))?.[1];
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** What names a code cache: a command's name, `library`, or `cli` for anything else. */
const PURPOSE = '[a-z][a-z-]{0,31}';

/** V8's code cache of a bundle for a purpose, under this Node: `<hash>-<purpose>-node<version>.code` (`airlock prune` reads these names). */
export const BUNDLE_CODE = new RegExp(`^([0-9a-f]{64})-${PURPOSE}-node([\\w.-]+)\\.code$`);
/** What an interrupted write of one leaves (./code-cache.ts: `<name>.<pid>-<thread>.tmp`). */
export const BUNDLE_CODE_LEFTOVER = new RegExp(`^[0-9a-f]{64}-${PURPOSE}-node[\\w.-]+\\.code\\.\\d+-\\d+\\.tmp$`);

/** Where V8's code cache of the bundle goes for one purpose; undefined when the cache root cannot be used. */
function cachePath(hash: string, purpose: string): string | undefined {
  try {
    return join(cacheDir('bundle-code'), `${hash}-${purpose}-node${process.versions.node}.code`);
  } catch {
    return undefined;
  }
}

/**
 * The bundle's exports (the library's, and the CLI's `runProcess`).
 * `purpose` names the code cache: `library`, or the command a CLI process
 * runs (anything else than lowercase letters and dashes is `cli`).
 */
export function loadBundle(purpose: string, file = BUNDLE_FILE): Record<string, unknown> {
  let exports = loaded.get(file);
  if (exports === undefined) loaded.set(file, (exports = load(purpose, file)));
  return exports;
}

/** Each bundle once per process, whoever asks (the CLI and the library share one: one standby, one AirlockError). */
const loaded = new Map<string, Record<string, unknown>>();

function load(purpose: string, file: string): Record<string, unknown> {
  const text = readFileSync(file, 'utf8');
  const hash = HEADER.exec(text)?.[1];
  const cache = hash === undefined ? undefined : cachePath(hash, new RegExp(`^${PURPOSE}$`).test(purpose) ? purpose : 'cli');
  const cachedData = cache === undefined ? undefined : readCodeCache(cache);
  // One line: the bundle's line numbers are the file's.
  const script = new Script(`${WRAPPER}${text}\n})`, {
    filename: file,
    ...(cachedData === undefined ? {} : { cachedData }),
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} as Record<string, unknown> };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(module.exports, createRequire(file), module, file, dirname(file), pathToFileURL(file).href, (specifier: string) => import.meta.resolve(specifier));
  // Made once this process is done with it: what it compiled while it worked is in it. Undefined without a
  // cache, true when V8 refused it (another V8 or other flags).
  if (cache !== undefined && script.cachedDataRejected !== false) process.once('exit', () => writeCodeCache(cache, script.createCachedData()));
  return module.exports;
}
