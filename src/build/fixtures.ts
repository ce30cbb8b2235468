/**
 * The test fixtures under fixtures/plugins/: every folder with a plugin.yaml
 * is built (cached by content hash) into the cache. Tests and benchmarks get
 * a fixture's component with `fixtureComponent('echo-c')`.
 *
 * Run: `npm run build:fixtures` (or `node src/build/fixtures.ts [name...]`).
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AirlockError } from '../errors.ts';
import { buildPlugin, type BuildResult } from './wasm.ts';

export const FIXTURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/plugins');

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(FIXTURES_DIR, e.name, 'plugin.yaml')))
    .map((e) => e.name)
    .sort();
}

/** Builds (or finds in the cache) one fixture; returns the component's path. */
export async function fixtureComponent(name: string): Promise<string> {
  const dir = join(FIXTURES_DIR, name);
  if (!existsSync(join(dir, 'plugin.yaml'))) throw new AirlockError('not-found', `no fixture ${name} in ${FIXTURES_DIR}`);
  return (await buildPlugin(dir)).componentPath;
}

export async function buildFixtures(names = fixtureNames(), log: (line: string) => void = () => {}): Promise<Record<string, BuildResult>> {
  const out: Record<string, BuildResult> = {};
  // One at a time: the machine is small and componentize-js is heavy.
  for (const name of names) {
    const t = performance.now();
    const r = await buildPlugin(join(FIXTURES_DIR, name));
    out[name] = r;
    log(`${name.padEnd(12)} ${r.cached ? 'cached' : 'built '} ${(performance.now() - t).toFixed(0).padStart(6)} ms  ${r.componentPath}`);
  }
  return out;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  try {
    await buildFixtures(names.length > 0 ? names : undefined, (l) => console.log(l));
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  }
}
