/**
 * Test support for the wasm engine: the engine's own test guest (guest/) and
 * a transpile function for WasmEngine's `transpile` option, so these tests do
 * not depend on the shape of src/engines/wasm/transpile.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TranspiledComponent } from '../../../src/engines/wasm/index.ts';
import { cacheDir } from '../../../src/paths.ts';
import { buildTestGuest } from './guest/build.ts';

export { buildTestGuest };

/** jco-transpile in instantiation mode, cached by component hash. */
export async function testTranspile(componentPath: string): Promise<TranspiledComponent> {
  const bytes = readFileSync(componentPath);
  const key = createHash('sha256').update(bytes).update('v1').digest('hex').slice(0, 16);
  const dir = cacheDir('test-transpile', key);
  const glue = join(dir, 'component.js');
  if (!existsSync(glue)) {
    const { transpile } = await import('@bytecodealliance/jco-transpile');
    const tmp = `${dir}.tmp-${process.pid}`;
    mkdirSync(tmp, { recursive: true });
    const r = await transpile(componentPath, { name: 'component', instantiation: 'async', outDir: `${tmp}/`, validLiftingOptimization: false, emitTypescriptDeclarations: false });
    for (const [path, content] of Object.entries(r.files)) {
      if (!path.endsWith('.js') && !path.endsWith('.wasm')) continue;
      let data: Uint8Array | string = content;
      // jco's glue reads process.env on every call for debug logging; compile it out.
      if (path.endsWith('.js')) data = Buffer.from(content).toString('utf8').replaceAll('globalThis?.process?.env?.JCO_DEBUG', 'false');
      writeFileSync(join(tmp, basename(path)), data);
    }
    mkdirSync(join(dir, '..'), { recursive: true });
    try {
      renameSync(tmp, dir);
    } catch {
      /* another test process won the race */
    }
  }
  const modules: Record<string, Uint8Array> = {};
  for (const f of readdirSync(dir)) if (f.endsWith('.wasm')) modules[f] = readFileSync(join(dir, f));
  return { glue: pathToFileURL(glue).href, modules };
}
