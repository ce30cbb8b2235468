/** Throwaway plugin folders for tests: write plugin.yaml (and files) into a temp dir and load it. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { loadPlugin, type LoadedManifest } from '../../src/manifest/index.ts';

const made: string[] = [];
// Each test file runs in its own process: remove its temp folders when it ends.
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'airlock-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A minimal valid manifest object; override any field. */
export function manifestObject(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'airlock/v1',
    name: 'demo',
    version: '1.0.0',
    runtime: 'python',
    entry: 'main.py',
    tools: [{ name: 'echo', description: 'Echo', input: { type: 'object' } }],
    ...overrides,
  };
}

/** Writes a plugin folder (plugin.yaml from `manifest`, plus `files`) and loads it. */
export function writePlugin(manifest: Record<string, unknown>, files: Record<string, string> = { 'main.py': '' }, dir = tempDir()): LoadedManifest {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  writeFileSync(join(dir, 'plugin.yaml'), stringify(manifest));
  return loadPlugin(dir);
}
