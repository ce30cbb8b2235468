/**
 * Which component file the engines get (src/provider/index.ts planSelection).
 */
import test from 'ava';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import type { EngineProbe } from '../../src/engines/probe.ts';
import type { EngineName } from '../../src/engines/types.ts';
import { computeGrants, defaultPolicy } from '../../src/grants/index.ts';
import { loadPlugin } from '../../src/manifest/index.ts';
import { planSelection } from '../../src/provider/index.ts';
import { cacheRoot } from '../../src/paths.ts';
import { isInside } from '../../src/plugin-files/inside.ts';
import { tempDir } from '../helpers/plugin.ts';

const probes: Record<EngineName, EngineProbe> = {
  wasm: { engine: 'wasm', available: true, version: 'test' },
  wasmtime: { engine: 'wasmtime', available: false, reason: 'not needed here' },
  docker: { engine: 'docker', available: false, reason: 'not needed here' },
};

test("a prebuilt component runs from a verified copy in the cache, never from the plugin's own file", async (t) => {
  const dir = tempDir();
  cpSync(join(FIXTURES_DIR, 'third-party'), dir, { recursive: true });
  const grants = computeGrants(loadPlugin(dir), defaultPolicy());
  const { selection, component } = await planSelection(grants, 'auto', probes);
  t.is(selection.engine, 'wasm');
  t.true(component !== undefined && isInside(cacheRoot(), component), `${component} is in the cache`);
});
