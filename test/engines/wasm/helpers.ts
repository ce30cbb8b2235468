/**
 * Test support for the wasm engine: grants naming a fixture from
 * fixtures/plugins (built by src/build, cached), so tests load the same
 * components users' plugins become.
 */
import { join } from 'node:path';
import { FIXTURES_DIR, fixtureComponent } from '../../../src/build/fixtures.ts';
import type { Grants } from '../../../src/grants/types.ts';
import { makeGrants, type GrantsOverrides } from '../../helpers/grants.ts';

export { fixtureComponent };

/** Grants for fixture `name` (plugin name, dir and entry filled in) with overrides. */
export function fixtureGrants(name: string, o: GrantsOverrides = {}): Grants {
  return makeGrants({ ...o, plugin: { name, dir: join(FIXTURES_DIR, name), ...o.plugin } });
}
