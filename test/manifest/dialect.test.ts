/**
 * Tool schemas leave the manifest as JSON Schema 2020-12 (src/manifest/dialect.ts): each converted schema
 * is valid 2020-12 and accepts exactly the values its draft-07 original accepted.
 */
import test from 'ava';
import { toDraft2020 } from '../../src/manifest/dialect.ts';
import { pluginAjv, pluginAjv2020 } from '../../src/manifest/regexp.ts';

type Schema = Record<string, unknown>;

/** Asserts `converted` is valid 2020-12 and agrees with draft-07 `schema` on every value. */
function sameMeaning(t: import('ava').ExecutionContext, schema: Schema, values: unknown[]): Schema {
  const converted = toDraft2020(schema);
  const ajv2020 = pluginAjv2020({ validateSchema: true });
  t.true(ajv2020.validateSchema(converted), `not valid 2020-12: ${ajv2020.errorsText(ajv2020.errors)}`);
  const before = pluginAjv().compile(schema);
  const after = ajv2020.compile(converted);
  for (const v of values) t.is(after(v), before(v), `${JSON.stringify(v)} is judged differently`);
  return converted;
}

test('a draft-07 tuple becomes prefixItems, and additionalItems becomes items', (t) => {
  const schema = {
    type: 'object',
    properties: { pair: { type: 'array', items: [{ type: 'string' }, { type: 'number' }], additionalItems: false } },
  };
  const converted = sameMeaning(t, schema, [{ pair: ['a', 1] }, { pair: ['a'] }, { pair: [1, 'a'] }, { pair: ['a', 1, 2] }, { pair: [] }, {}]);
  t.deepEqual((converted.properties as Schema).pair, { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false });
});

test('definitions become $defs and the $refs into them follow, a property named "definitions" untouched', (t) => {
  const schema = {
    type: 'object',
    definitions: { name: { type: 'string', minLength: 2 }, tuple: { items: [{ type: 'integer' }] } },
    properties: {
      who: { $ref: '#/definitions/name' },
      first: { $ref: '#/definitions/tuple/items/0' },
      definitions: { type: 'boolean' },
      self: { $ref: '#/properties/definitions' },
    },
  };
  const converted = sameMeaning(t, schema, [
    { who: 'ab', first: 3, definitions: true, self: false },
    { who: 'a' },
    { first: 'x' },
    { definitions: 1 },
    { self: 'no' },
  ]);
  t.deepEqual(Object.keys(converted.$defs as Schema), ['name', 'tuple']);
  t.is(((converted.properties as Schema).first as Schema).$ref, '#/$defs/tuple/prefixItems/0');
  t.is(((converted.properties as Schema).self as Schema).$ref, '#/properties/definitions');
});

test('dependencies split into dependentRequired and dependentSchemas', (t) => {
  const schema = { type: 'object', dependencies: { card: ['cvv'], vip: { required: ['level'] } } };
  const converted = sameMeaning(t, schema, [{}, { card: 1 }, { card: 1, cvv: 2 }, { vip: true }, { vip: true, level: 3 }]);
  t.deepEqual(converted.dependentRequired, { card: ['cvv'] });
  t.deepEqual(converted.dependentSchemas, { vip: { required: ['level'] } });
});

test('a plain-name $id becomes $anchor; 2020-12-only keywords (ignored by draft-07) are dropped; $schema names 2020-12', (t) => {
  const schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    definitions: { n: { $id: '#num', type: 'number' } },
    properties: { x: { $ref: '#num' }, y: { type: 'array', prefixItems: [{ type: 'string' }] } },
    unevaluatedProperties: false,
  };
  const converted = sameMeaning(t, schema, [{ x: 1 }, { x: 'a' }, { y: [1] }, { z: 1 }]);
  t.is(converted.$schema, 'https://json-schema.org/draft/2020-12/schema');
  t.is(converted.unevaluatedProperties, undefined);
  t.deepEqual((converted.$defs as Schema).n, { $anchor: 'num', type: 'number' });
});

test('keywords with the same meaning in both dialects pass through, $ref siblings applying as before', (t) => {
  const schema = {
    type: 'object',
    definitions: { s: { type: 'string' } },
    required: ['a'],
    properties: {
      a: { $ref: '#/definitions/s', maxLength: 3 },
      b: { anyOf: [{ type: 'null' }, { type: 'array', items: { type: 'integer' }, contains: { const: 7 } }] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, not a promise
      c: { if: { type: 'string' }, then: { pattern: '^x' }, else: { type: 'integer' } },
      d: { enum: [{ items: [1] }], default: { definitions: 1 } },
    },
    patternProperties: { '^p_': { type: 'boolean' } },
    additionalProperties: { not: { type: 'object' } },
    propertyNames: { maxLength: 5 },
  };
  const converted = sameMeaning(t, schema, [
    { a: 'abc' },
    { a: 'abcd' },
    { a: 1 },
    {},
    { a: 'x', b: [1, 7] },
    { a: 'x', b: [1] },
    { a: 'x', c: 'xy' },
    { a: 'x', c: 'y' },
    { a: 'x', c: 2 },
    { a: 'x', d: { items: [1] } },
    { a: 'x', p_q: 'no' },
    { a: 'x', other: {} },
    { a: 'x', toolong: 1 },
  ]);
  // Data keywords are values, not schemas: nothing in them is renamed.
  t.deepEqual((converted.properties as Schema).d, { enum: [{ items: [1] }], default: { definitions: 1 } });
});
