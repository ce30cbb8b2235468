/**
 * Golden files: every folder under fixtures/manifests/valid must validate to
 * its expected.json, every folder under fixtures/manifests/invalid must fail
 * with exactly the problems in its expected.txt. Regenerate after an
 * intended change with `UPDATE_GOLDEN=1 npx ava test/manifest/golden.test.ts`
 * and review the diff.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { formatProblem } from '../../src/errors.ts';
import { manifestJsonSchema, validatePlugin } from '../../src/manifest/index.ts';

const root = new URL('../../fixtures/manifests/', import.meta.url).pathname;
const update = process.env.UPDATE_GOLDEN === '1';

function cases(kind: 'valid' | 'invalid'): string[] {
  return readdirSync(join(root, kind)).sort();
}

/** Problems and values mention the fixture's own folder; golden files say `<dir>` so they hold on any checkout. */
function portable(text: string, dir: string): string {
  return text.split(realpathSync(dir)).join('<dir>').split(dir).join('<dir>');
}

function golden(t: import('ava').ExecutionContext, file: string, actual: string): void {
  if (update || !existsSync(file)) {
    writeFileSync(file, actual);
    if (!update) t.fail(`wrote missing golden file ${file}; review it and run again`);
  }
  t.is(actual, readFileSync(file, 'utf8'));
}

for (const name of cases('valid')) {
  test(`valid manifest: ${name}`, (t) => {
    const dir = join(root, 'valid', name);
    const result = validatePlugin(dir);
    if (!result.ok) {
      t.fail(result.problems.map(formatProblem).join('\n'));
      return;
    }
    const { manifest, runtime, runtimeReason } = result.plugin;
    golden(t, join(dir, 'expected.json'), `${portable(JSON.stringify({ runtime, runtimeReason, manifest }, null, 2), dir)}\n`);
  });
}

for (const name of cases('invalid')) {
  test(`invalid manifest: ${name}`, (t) => {
    const dir = join(root, 'invalid', name);
    const result = validatePlugin(dir);
    if (result.ok) {
      t.fail('validated, but it is an invalid fixture');
      return;
    }
    for (const p of result.problems) {
      t.true(p.message.length > 0);
      t.notRegex(p.message, /\n\s+at /, 'no stack trace in a problem');
    }
    const lines = result.problems.map((p) => portable(formatProblem({ ...p, file: 'plugin.yaml' }), dir));
    golden(t, join(dir, 'expected.txt'), `${lines.join('\n')}\n`);
  });
}

test('every valid fixture validates against the JSON Schema that `airlock schema` prints', async (t) => {
  const { parse } = await import('yaml');
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(manifestJsonSchema());
  for (const name of cases('valid')) {
    const data: unknown = parse(readFileSync(join(root, 'valid', name, 'plugin.yaml'), 'utf8'));
    t.true(validate(data), `${name}: ${ajv.errorsText(validate.errors)}`);
  }
});

test('the JSON Schema rejects the schema-level invalid fixtures too', async (t) => {
  const { parse } = await import('yaml');
  const ajv = new Ajv({ strict: false });
  const validate = ajv.compile(manifestJsonSchema());
  for (const name of ['api-version-wrong', 'name-not-dns-label', 'unknown-field', 'tools-empty', 'runtime-unknown', 'fs-access-invalid', 'memory-bad']) {
    const data: unknown = parse(readFileSync(join(root, 'invalid', name, 'plugin.yaml'), 'utf8'));
    t.false(validate(data), name);
  }
});
