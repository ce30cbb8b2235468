/** Tool and plugin descriptions reach the model: each is capped at MAX_DESCRIPTION characters. */
import test from 'ava';
import { stringify } from 'yaml';
import { validateManifestText } from '../../src/manifest/load.ts';
import { MAX_DESCRIPTION } from '../../src/manifest/schema.ts';
import { manifestObject, tempDir } from '../helpers/plugin.ts';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';

function problems(overrides: Record<string, unknown>): string[] {
  const dir = tempDir();
  writeFileSync(join(dir, 'main.py'), '');
  const file = join(dir, 'plugin.yaml');
  const result = validateManifestText(file, stringify(manifestObject(overrides)));
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

test('tool descriptions (tool poisoning): a tool or plugin description over the length cap is refused, one at the cap passes', (t) => {
  const at = 'x'.repeat(MAX_DESCRIPTION);
  t.deepEqual(problems({ description: at, tools: [{ name: 'echo', description: at, input: { type: 'object' } }] }), []);
  const over = problems({ description: `${at}x`, tools: [{ name: 'echo', description: `${at}x`, input: { type: 'object' } }] }).sort();
  t.is(over.length, 2);
  t.true(over[0]!.startsWith(`description: a plugin description is at most ${MAX_DESCRIPTION} characters`), over[0]);
  t.true(over[1]!.startsWith(`tools[0].description: a tool description is at most ${MAX_DESCRIPTION} characters`), over[1]);
});
