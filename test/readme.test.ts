/** The README's examples are what authors copy: they must stay valid. */
import test from 'ava';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolicy } from '../src/grants/index.ts';
import { validateManifestText } from '../src/manifest/index.ts';
import { tempDir } from './helpers/plugin.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const yamlBlocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

test('the README plugin.yaml example is a valid manifest', (t) => {
  const block = yamlBlocks.find((b) => b.includes('apiVersion: airlock/v1'));
  t.truthy(block);
  const dir = tempDir();
  writeFileSync(join(dir, 'weather.py'), '');
  mkdirSync(join(dir, 'data'));
  const result = validateManifestText(join(dir, 'plugin.yaml'), block!);
  t.true(result.ok, result.ok ? '' : result.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`).join('\n'));
});

test('the README policy example is a valid host policy', (t) => {
  const block = yamlBlocks.find((b) => b.startsWith('# policy.yaml'));
  t.truthy(block);
  const dir = tempDir();
  writeFileSync(join(dir, 'policy.yaml'), block!);
  t.notThrows(() => loadPolicy(join(dir, 'policy.yaml')));
});
