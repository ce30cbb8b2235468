/**
 * Runs componentize-js in a child process for ./wasm.ts: componentize-js
 * hands `process.stdout` to its wizer child, which fails inside a worker
 * thread (not a real fd) and, on the main thread, would let wizer write into
 * the CLI's stdout. Here stdout belongs to this process, which the parent
 * discards.
 *
 * It runs sandboxed (see ./sandbox.ts): componentize-js runs the plugin's
 * top-level code to pre-initialize it. No imports of Airlock's own modules:
 * the sandbox holds only this folder and the packages named by URL.
 *
 *   node componentize-js-child.ts <componentize-js module URL> <source> <wit file> <world> <out.wasm> [cache dir]
 *
 * The cache dir is wizer's (wasmtime's) compile cache, XDG_CACHE_HOME for it.
 */
import { readFile, writeFile } from 'node:fs/promises';

const [moduleUrl, sourcePath, witFile, worldName, out, cacheHome] = process.argv.slice(2);
if (moduleUrl === undefined || sourcePath === undefined || witFile === undefined || worldName === undefined || out === undefined) {
  process.stderr.write('usage: componentize-js-child <componentize-js URL> <source> <wit file> <world> <out.wasm>\n');
  process.exit(2);
}
try {
  const { componentize } = (await import(moduleUrl)) as typeof import('@bytecodealliance/componentize-js');
  // `witWorld` is accepted by componentize() but missing from its types.d.ts.
  const { component } = await (componentize as (o: object) => Promise<{ component: Uint8Array }>)({
    sourcePath,
    // Source text, not witPath: the splicer reads paths through preview2-shim,
    // which has no default preopens since 0.26 ("os error 44").
    witWorld: await readFile(witFile, 'utf8'),
    worldName,
    // No fetch-event/http: the world only exports tools; imports are decided by grants.
    disableFeatures: ['http', 'fetch-event'],
    // wizer (wasmtime) looks for its cache under XDG_CACHE_HOME, else HOME, else
    // the passwd entry, which the sandbox has none of; it gets nothing else of ours.
    env: { HOME: process.env.HOME ?? '/tmp', ...(cacheHome !== undefined ? { XDG_CACHE_HOME: cacheHome } : {}) },
  });
  await writeFile(out, component);
} catch (e) {
  // The message only: the parent puts it in its build-failed error.
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
