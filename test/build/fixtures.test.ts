import test from 'ava';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import { join } from 'node:path';
import { buildFixtures, componentEntry, FIXTURES_DIR, fixtureComponent, fixtureNames } from '../../src/build/fixtures.ts';
import { transpileComponent } from '../../src/engines/wasm/transpile.ts';
import { Wasm, type WasmModule } from '../../src/wasm-api.ts';

// componentize-py comes from PyPI (`pip install componentize-py==0.25.1`); CI must have it.
const hasPy = spawnSync('componentize-py', ['--version']).status === 0;
const needsPy = (n: string): boolean => componentEntry(join(FIXTURES_DIR, n))?.endsWith('.py') === true;
const names = fixtureNames().filter((n) => hasPy || process.env.CI !== undefined || !needsPy(n));

test.serial('every fixture builds, and a second build of unchanged sources is a cache hit', async (t) => {
  await buildFixtures(names);
  const again = await buildFixtures(names);
  for (const n of names) t.true(again[n]?.cached, n);
});

for (const name of ['echo-c', 'echo-js', 'echo-py']) {
  (names.includes(name) ? test.serial : test.skip)(`${name} answers echo and add, and reports tool errors as {code, message}`, async (t) => {
    const tr = await transpileComponent(await fixtureComponent(name));
    const mods: Record<string, WasmModule> = {};
    for (const [n, b] of Object.entries(tr.modules)) mods[n] = await Wasm.compile(b);
    const { instantiate } = (await import(pathToFileURL(tr.glue).href)) as {
      instantiate: (get: (n: string) => WasmModule | undefined, imports: object) => { tools: { call(n: string, i: string): string } };
    };
    const { call } = instantiate((n) => mods[n], new WASIShim().getImportObject()).tools;
    t.is(call('echo', '{"a":[1,"x"]}'), '{"a":[1,"x"]}');
    t.is(JSON.parse(call('add', '{"a":2,"b":0.5}')), 2.5);
    let thrown: unknown;
    try {
      call('add', '{}');
    } catch (e) {
      thrown = e;
    }
    t.like(thrown, { code: 'invalid-input' });
  });
}
