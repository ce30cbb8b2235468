/**
 * jco's component parsers, run on plugin bytes in a sandboxed child for
 * ./wasm.ts (see ./sandbox.ts): a hostile component or core module can make
 * a parser spin or allocate, which in the host would stall its event loop
 * or grow its memory. No imports of Airlock's own modules: the sandbox holds
 * only this folder and the packages named on the command line, so the
 * interface and world names (src/wit.ts) come on it too.
 *
 *   node component-child.ts <jco module URL> <interface> check <component.wasm>
 *   node component-child.ts <jco module URL> <interface> wrap <core.wasm> <world.wit> <world> <out.wasm>
 *
 * Exit 0: done (and the component exports <interface>, any version); exit 3:
 * a valid component without that export; exit 4: not a valid component or
 * module; the reason on stderr.
 */
import { readFile, writeFile } from 'node:fs/promises';

type Jco = typeof import('@bytecodealliance/jco');

const [jcoUrl, iface, mode, input, witFile, world, out] = process.argv.slice(2);
if (
  jcoUrl === undefined ||
  iface === undefined ||
  input === undefined ||
  (mode !== 'check' && (mode !== 'wrap' || witFile === undefined || world === undefined || out === undefined))
) {
  process.stderr.write('usage: component-child <jco URL> <interface> check <in.wasm> | wrap <core.wasm> <world.wit> <world> <out.wasm>\n');
  process.exit(2);
}
const jco = (await import(jcoUrl)) as Jco;

function failWith(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function wrap(core: Uint8Array): Promise<Uint8Array> {
  try {
    const embedded = await jco.componentEmbed({ binary: core, witSource: await readFile(witFile as string, 'utf8'), world: world as string });
    return await jco.componentNew(embedded, [['wasi_snapshot_preview1', await readFile(jco.preview1AdapterReactorPath())]]);
  } catch (e) {
    return failWith(4, (e as Error).message);
  }
}

let bytes: Uint8Array = new Uint8Array(await readFile(input));
if (mode === 'wrap') {
  bytes = await wrap(bytes);
  await writeFile(out as string, bytes);
}
let wit: string;
try {
  wit = await jco.componentWit(bytes);
} catch (e) {
  failWith(4, (e as Error).message);
}
const escaped = iface.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
if (!new RegExp(`^[ \\t]*export ${escaped}(@[^;\\s]+)?;`, 'm').test(wit)) failWith(3, `the component does not export ${iface}`);
