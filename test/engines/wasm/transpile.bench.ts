/**
 * In-thread cost of one tools.call through Airlock's transpiled glue, with and
 * without jco's JCO_DEBUG env check (a benchmark script, not a test):
 *
 *   node test/engines/wasm/transpile.bench.ts [fixture=echo-c] [calls=200000]
 */
import { pathToFileURL } from 'node:url';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import { fixtureComponent } from '../../../src/build/fixtures.ts';
import { transpileComponent } from '../../../src/engines/wasm/transpile.ts';
import { Wasm, type WasmModule } from '../../../src/wasm-api.ts';

const fixture = process.argv[2] ?? 'echo-c';
const calls = Number(process.argv[3] ?? 200_000);
const path = await fixtureComponent(fixture);
for (const keepDebugLog of [true, false]) {
  const t = await transpileComponent(path, { keepDebugLog });
  const mods: Record<string, WasmModule> = {};
  for (const [n, b] of Object.entries(t.modules)) mods[n] = await Wasm.compile(b);
  const { instantiate } = (await import(pathToFileURL(t.glue).href)) as {
    instantiate: (get: (n: string) => WasmModule | undefined, imports: object) => { tools: { call(n: string, i: string): string } };
  };
  const { call } = instantiate((n) => mods[n], new WASIShim().getImportObject()).tools;
  const input = '{"x":1}';
  for (let i = 0; i < Math.min(calls, 20_000); i++) call('echo', input);
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) call('echo', input);
  const us = Number(process.hrtime.bigint() - start) / calls / 1000;
  console.log(`${fixture} echo in-thread, ${keepDebugLog ? 'jco glue as generated   ' : 'JCO_DEBUG check removed'}: ${us.toFixed(3)} µs/call (${calls} calls)`);
}
