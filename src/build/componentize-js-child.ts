/**
 * Runs componentize-js in a child process for ./wasm.ts: componentize-js
 * hands `process.stdout` to its wizer child, which fails inside a worker
 * thread (not a real fd) and, on the main thread, would let wizer write into
 * the CLI's stdout. Here stdout belongs to this process, which the parent
 * discards.
 *
 *   node componentize-js-child.ts <source> <wit file> <world> <out.wasm>
 */
import { readFile, writeFile } from 'node:fs/promises';
import { componentize } from '@bytecodealliance/componentize-js';

const [sourcePath, witFile, worldName, out] = process.argv.slice(2);
if (sourcePath === undefined || witFile === undefined || worldName === undefined || out === undefined) {
  process.stderr.write('usage: componentize-js-child <source> <wit file> <world> <out.wasm>\n');
  process.exit(2);
}
try {
  // `witWorld` is accepted by componentize() but missing from its types.d.ts.
  const { component } = await (componentize as (o: object) => Promise<{ component: Uint8Array }>)({
    sourcePath,
    // Source text, not witPath: the splicer reads paths through preview2-shim,
    // which has no default preopens since 0.26 ("os error 44").
    witWorld: await readFile(witFile, 'utf8'),
    worldName,
    // No fetch-event/http: the world only exports tools; imports are decided by grants.
    disableFeatures: ['http', 'fetch-event'],
  });
  await writeFile(out, component);
} catch (e) {
  // The message only: the parent puts it in its build-failed error.
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
