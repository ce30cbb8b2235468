/**
 * Runs jco's transpiler in a child process for ./transpile.ts. The component
 * is the plugin's bytes, and transpiling is seconds of synchronous work in
 * jco's own wasm (an 18 MB Python component: 6 s, all of it an event-loop
 * stall when done in the host) with memory that grows with the input. Here
 * the parent bounds both: heap and wasm memory by flags, time by a timeout.
 *
 *   node transpile-child.ts <component.wasm> <out folder>
 *
 * Writes plugin.js, the core modules (*.wasm), exports.json (the export
 * names) and imports.json (the imported interfaces) into the out folder; on failure, the message on stderr and exit 1.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { transpileBytes } from '@bytecodealliance/jco-transpile';

const [input, out] = process.argv.slice(2);
if (input === undefined || out === undefined) {
  process.stderr.write('usage: transpile-child <component.wasm> <out folder>\n');
  process.exit(2);
}
try {
  const result = await transpileBytes(new Uint8Array(await readFile(input)), {
    name: 'plugin',
    instantiation: 'sync',
    // No option that assumes a valid component: the bytes are the plugin's.
    validLiftingOptimization: false,
    optimize: false,
    minify: false,
    base64Cutoff: 0,
    wasiShim: false,
    tlaCompat: false,
    emitTypescriptDeclarations: false,
  });
  for (const [name, data] of Object.entries(result.files)) {
    if (name === 'plugin.js' || (name.endsWith('.wasm') && !name.includes('/'))) await writeFile(join(out, name), data);
  }
  await writeFile(join(out, 'exports.json'), JSON.stringify(result.exports.map(([name]) => name)));
  await writeFile(join(out, 'imports.json'), JSON.stringify(result.imports));
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
