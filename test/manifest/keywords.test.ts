/**
 * Tool schemas are checked in Ajv's strict mode (unknown keywords are
 * errors) when the manifest is checked, so `validate` and `load` refuse a
 * misspelt keyword alike, at the key's file:line:column.
 */
import test from 'ava';
import { Ajv } from 'ajv';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { isAirlockError } from '../../src/errors.ts';
import { loadPlugin, validateManifestText, validatePlugin } from '../../src/manifest/index.ts';
import { MAX_UNKNOWN_KEYWORDS, unknownKeywords } from '../../src/manifest/keywords.ts';
import { pluginAjv } from '../../src/manifest/regexp.ts';
import { cli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/plugin.ts';

const MANIFEST = `apiVersion: airlock/v1
name: typo
version: 1.0.0
runtime: wasm
entry: plugin.wasm
tools:
  - name: greet
    description: Greets
    input:
      type: object
      properties:
        name: { type: string, minLenght: 1, format: email }
        tags:
          type: array
          items: { type: string, x-ui: chips }
      requried: [name]
`;

function plugin(text = MANIFEST): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'plugin.yaml'), text);
  writeFileSync(join(dir, 'plugin.wasm'), '');
  return dir;
}

test("a misspelt keyword in a tool schema is invalid-manifest at the key's line and column, with the keyword it likely means", (t) => {
  const dir = plugin();
  const r = validatePlugin(dir);
  t.false(r.ok);
  const problems = r.ok ? [] : r.problems.filter((p) => p.path !== 'entry');
  t.deepEqual(
    problems.map((p) => [p.line, p.column, p.path]),
    [
      [12, 31, 'tools[0].input.properties.name.minLenght'],
      [16, 7, 'tools[0].input.requried'],
    ],
  );
  t.regex(problems[1]?.message ?? '', /unknown JSON Schema keyword "requried"/);
  t.regex(problems[1]?.hint ?? '', /did you mean "required"\?/);
  t.regex(problems[0]?.hint ?? '', /did you mean "minLength"\?/);
});

test('validate and load agree: both refuse the misspelt keyword with the same problems', async (t) => {
  const dir = plugin();
  const validated = validatePlugin(dir);
  const err = t.throws(() => loadPlugin(dir));
  t.true(isAirlockError(err, 'invalid-manifest'));
  t.deepEqual(isAirlockError(err) ? err.problems : [], validated.ok ? [] : validated.problems);
  const run = await cli(['validate', dir]);
  t.is(run.code, 1);
  t.regex(run.stdout, /plugin\.yaml:16:7: tools\[0\]\.input\.requried: input schema: unknown JSON Schema keyword "requried"/);
});

test('known keywords, annotations, formats and x- vendor keywords pass', (t) => {
  const r = validateManifestText(
    'plugin.yaml',
    stringify({
      apiVersion: 'airlock/v1',
      name: 'fine',
      version: '1.0.0',
      runtime: 'wasm',
      entry: 'plugin.wasm',
      tools: [
        {
          name: 'run',
          description: 'x',
          input: {
            type: 'object',
            $comment: 'c',
            title: 't',
            'x-vendor': { anything: true },
            properties: { when: { type: 'string', format: 'date-time', examples: ['2024-01-01T00:00:00Z'], default: 'x', deprecated: true } },
            dependencies: { a: ['b'], c: { required: ['d'] } },
            definitions: { n: { type: 'number', exclusiveMinimum: 0 } },
            if: { properties: { a: { const: 1 } } },
            // biome-ignore lint/suspicious/noThenProperty: a JSON Schema keyword
            then: { required: ['a'] },
            additionalProperties: false,
          },
          output: { type: 'object', patternProperties: { '^x': { type: 'integer' } } },
        },
      ],
    }),
  );
  t.deepEqual(r.ok ? [] : r.problems.filter((p) => p.path !== 'entry'), []);
});

test('the walk finds exactly what Ajv strict mode refuses, in every kind of subschema', (t) => {
  const strict = new Ajv({ strictSchema: true, strictTypes: false, strictTuples: false, strictRequired: false, validateFormats: false });
  const known = pluginAjv().RULES.keywords;
  const places: Array<[Record<string, unknown>, string]> = [
    [{ type: 'object', bogus: 1 }, 'bogus'],
    [{ type: 'object', properties: { a: { typ: 'string' } } }, 'properties.a.typ'],
    [{ type: 'object', patternProperties: { '^a': { maxLenght: 1 } } }, 'patternProperties.^a.maxLenght'],
    [{ type: 'object', additionalProperties: { enun: [1] } }, 'additionalProperties.enun'],
    [{ type: 'object', properties: { l: { type: 'array', items: [{ minimun: 1 }] } } }, 'properties.l.items.0.minimun'],
    [{ type: 'object', properties: { l: { type: 'array', items: { uniqeItems: true } } } }, 'properties.l.items.uniqeItems'],
    [{ type: 'object', anyOf: [{ minProperties: 1 }, { requird: ['a'] }] }, 'anyOf.1.requird'],
    [{ type: 'object', not: { constt: 1 } }, 'not.constt'],
    // biome-ignore lint/suspicious/noThenProperty: a JSON Schema keyword
    [{ type: 'object', if: { x: 1 }, then: { required: ['a'] } }, 'if.x'],
    [{ type: 'object', dependencies: { a: { propertys: {} } } }, 'dependencies.a.propertys'],
    [{ type: 'object', properties: { n: { $ref: '#/definitions/d' } }, definitions: { d: { maximun: 2 } } }, 'definitions.d.maximun'],
    [{ type: 'object', propertyNames: { patern: 'a' } }, 'propertyNames.patern'],
  ];
  for (const [schema, where] of places) {
    t.throws(() => strict.compile(schema), { message: /strict mode: unknown keyword/ }, where);
    t.deepEqual(
      unknownKeywords(schema, known).map((u) => u.path.join('.')),
      [where],
    );
  }
  for (const ok of [
    { type: 'object', 'x-a': 1, properties: { b: { 'x-c': 2, type: 'string' } } },
    { type: 'object', dependencies: { a: ['b'] } },
  ]) {
    t.deepEqual(unknownKeywords(ok, known), []);
  }
});

test('a hostile schema of thousands of unknown keywords is reported up to a bound', (t) => {
  const input: Record<string, unknown> = { type: 'object' };
  for (let i = 0; i < 3000; i++) input[`junk${i}`] = i;
  const found = unknownKeywords(input, pluginAjv().RULES.keywords);
  t.is(found.length, MAX_UNKNOWN_KEYWORDS);
  const r = validateManifestText(
    'plugin.yaml',
    stringify({
      apiVersion: 'airlock/v1',
      name: 'junk',
      version: '1.0.0',
      runtime: 'wasm',
      entry: 'plugin.wasm',
      tools: [{ name: 'a', description: 'x', input }],
    }),
  );
  t.false(r.ok);
  t.is(r.ok ? 0 : r.problems.filter((p) => /unknown JSON Schema keyword "/.test(p.message)).length, MAX_UNKNOWN_KEYWORDS);
});

test('across the manifest, unknown keywords are listed up to the same bound, then counted in one line', (t) => {
  const tools = Array.from({ length: 10 }, (_, i) => {
    const input: Record<string, unknown> = { type: 'object' };
    for (let k = 0; k < 30; k++) input[`t${i}junk${k}`] = k;
    return { name: `t${i}`, description: 'x', input };
  });
  const r = validateManifestText(
    'plugin.yaml',
    stringify({ apiVersion: 'airlock/v1', name: 'junk', version: '1.0.0', runtime: 'wasm', entry: 'plugin.wasm', tools }),
  );
  const problems = r.ok ? [] : r.problems;
  t.is(problems.filter((p) => /unknown JSON Schema keyword "/.test(p.message)).length, MAX_UNKNOWN_KEYWORDS);
  t.true(
    problems.some(
      (p) => p.message === `${300 - MAX_UNKNOWN_KEYWORDS} more unknown JSON Schema keywords in the tool schemas after the first ${MAX_UNKNOWN_KEYWORDS}`,
    ),
  );
});

test('the walk also finds typos where Ajv never looks (an unreferenced definition, a branch after an always-valid one)', (t) => {
  const strict = new Ajv({ strictSchema: true, strictTypes: false, strictTuples: false, strictRequired: false, validateFormats: false });
  const schema = { type: 'object', definitions: { d: { maximun: 2 } }, anyOf: [{}, { requird: ['a'] }] };
  t.notThrows(() => strict.compile(schema));
  t.deepEqual(
    unknownKeywords(schema, pluginAjv().RULES.keywords)
      .map((u) => u.path.join('.'))
      .sort(),
    ['anyOf.1.requird', 'definitions.d.maximun'],
  );
});
