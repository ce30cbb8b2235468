/**
 * The test fixtures under fixtures/plugins/: every folder with a plugin.yaml
 * that has a component to build (a wasm plugin's entry, or the `wasm:` entry
 * of a node/python plugin) is built (cached by content hash) into the cache.
 * Node/python plugins without one are Docker's and are not built here.
 * Tests and benchmarks get a fixture's component with `fixtureComponent('echo-c')`.
 *
 * Run: `npm run build:fixtures` (or `node src/build/fixtures.ts [name...]`).
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AirlockError } from '../errors.ts';
import { loadPlugin, validatePlugin, type LoadedManifest } from '../manifest/index.ts';
import { buildPlugin, type BuildResult } from './wasm.ts';

export const FIXTURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/plugins');

/** The file a fixture's component is built from (its manifest read by the one manifest reader), or undefined for a plugin Docker runs from source. */
export function componentEntry(dir: string): string | undefined {
  return componentOf(loadPlugin(dir));
}

function componentOf({ manifest, runtime }: LoadedManifest): string | undefined {
  return manifest.wasm ?? (runtime === 'wasm' ? manifest.entry : undefined);
}

/** componentEntry, or undefined for a fixture whose manifest is invalid on purpose (it has nothing to build). */
function validComponentEntry(dir: string): string | undefined {
  const r = validatePlugin(dir);
  return r.ok ? componentOf(r.plugin) : undefined;
}

/** Fixtures with a component to build. */
export function fixtureNames(): string[] {
  return readdirSync(FIXTURES_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(FIXTURES_DIR, e.name, 'plugin.yaml')) && validComponentEntry(join(FIXTURES_DIR, e.name)) !== undefined)
    .map((e) => e.name)
    .sort();
}

/** Builds (or finds in the cache) one fixture; returns the component's path. */
export async function fixtureComponent(name: string): Promise<string> {
  return (await buildFixture(name)).componentPath;
}

async function buildFixture(name: string): Promise<BuildResult> {
  const dir = join(FIXTURES_DIR, name);
  if (!existsSync(join(dir, 'plugin.yaml'))) throw new AirlockError('not-found', `no fixture ${name} in ${FIXTURES_DIR}`);
  const entry = componentEntry(dir);
  if (entry === undefined) throw new AirlockError('not-found', `fixture ${name} has no component (it is a node/python plugin without a \`wasm:\` entry)`);
  return buildPlugin(dir, { entry });
}

export async function buildFixtures(names = fixtureNames(), log: (line: string) => void = () => {}): Promise<Record<string, BuildResult>> {
  const out: Record<string, BuildResult> = {};
  // One at a time: the machine is small and componentize-js is heavy.
  for (const name of names) {
    const t = performance.now();
    const r = await buildFixture(name);
    out[name] = r;
    log(`${name.padEnd(12)} ${r.cached ? 'cached' : 'built '} ${(performance.now() - t).toFixed(0).padStart(6)} ms  ${r.componentPath}`);
  }
  return out;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  // No top-level await: this module is bundled with the rest (scripts/bundle.ts), as CommonJS.
  buildFixtures(names.length > 0 ? names : undefined, (l) => console.log(l)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
