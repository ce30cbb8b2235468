/** The import and export names of a component, for the CNCF wasm OCI config; anything else gives undefined, never a hang or a throw. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { buildPlugin } from '../../../src/build/index.ts';
import { componentWorld } from '../../../src/trust/oci/index.ts';
import { TOOLS_INTERFACE_VERSIONED } from '../../../src/wit.ts';
import { fixture } from '../../host/helpers.ts';

test("a built component's top-level imports and exports are named as the component names them", async (t) => {
  const world = componentWorld(readFileSync((await buildPlugin(fixture('echo-c'))).componentPath));
  t.deepEqual(world?.exports, [TOOLS_INTERFACE_VERSIONED]);
  t.true(world!.imports.length > 0);
  t.true(
    world!.imports.every((name) => /^wasi:[a-z-]+\/[a-z-]+@\d+\.\d+\.\d+$/.test(name)),
    String(world!.imports),
  );
});

test('a core module, a truncated component and garbage give undefined', (t) => {
  t.is(componentWorld(Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])), undefined);
  t.is(componentWorld(Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x0a, 0xff, 0xff])), undefined);
  t.is(componentWorld(Buffer.from('not wasm at all')), undefined);
  // A section count far beyond the bytes: bounded by what is left, not by the count.
  t.deepEqual(componentWorld(Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x0a, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f])), {
    imports: [],
    exports: [],
  });
});
