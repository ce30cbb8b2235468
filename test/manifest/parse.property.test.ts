/**
 * Property tests: whatever text arrives as plugin.yaml, the parser returns
 * structured problems (file, 1-based position, message) and never throws.
 */
import test from 'ava';
import fc from 'fast-check';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { validateManifestText } from '../../src/manifest/index.ts';
import { manifestObject, tempDir } from '../helpers/plugin.ts';

const file = join(tempDir(), 'plugin.yaml');

function wellFormed(t: import('ava').ExecutionContext, text: string): boolean {
  let result;
  try {
    result = validateManifestText(file, text);
  } catch (err) {
    t.log(`threw on ${JSON.stringify(text).slice(0, 200)}: ${String(err)}`);
    return false;
  }
  if (result.ok) return true;
  return (
    result.problems.length > 0 &&
    result.problems.every((p) => p.file === file && typeof p.message === 'string' && p.message.length > 0 && (p.line === undefined || (p.line >= 1 && (p.column ?? 1) >= 1)))
  );
}

test('arbitrary text never crashes the parser and always yields structured problems', (t) => {
  t.notThrows(() => fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => wellFormed(t, text)), { numRuns: 400 }));
});

test('YAML-looking text (keys, colons, dashes, indentation, flow) never crashes the parser', (t) => {
  const token = fc.constantFrom('apiVersion', 'name', 'tools', 'input', ':', ' ', '  ', '- ', '\n', '[', ']', '{', '}', '&a', '*a', '!!str', '"', "'", '#', '|', '>', 'airlock/v1', '1.0.0', '\t', '---', '...');
  t.notThrows(() => fc.assert(fc.property(fc.array(token, { maxLength: 60 }), (parts) => wellFormed(t, parts.join(''))), { numRuns: 400 }));
});

test('any JSON value serialized as YAML never crashes the parser', (t) => {
  t.notThrows(() => fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => wellFormed(t, stringify(value))), { numRuns: 300 }));
});

test('a valid manifest with one field replaced by an arbitrary value never crashes the parser', (t) => {
  const keys = ['apiVersion', 'name', 'version', 'runtime', 'entry', 'tools', 'permissions', 'resources', 'build', 'isolation', 'wasm'];
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 3 }), (key, value) => wellFormed(t, stringify(manifestObject({ [key]: value })))),
      { numRuns: 300 },
    ),
  );
});
