/**
 * Manifest amplification (src/manifest/schema.ts MANIFEST_LIMITS): each cap is an invalid-manifest
 * problem at the field, with file:line; a manifest at every cap is valid; and the caps fire before ajv
 * compiles any tool schema.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { validatePlugin } from '../../src/manifest/index.ts';
import { MANIFEST_LIMITS as L } from '../../src/manifest/schema.ts';
import { MAX_MANIFEST_BYTES } from '../../src/plugin-files/index.ts';
import { manifestObject, tempDir } from '../helpers/plugin.ts';

function validate(text: string): ReturnType<typeof validatePlugin> {
  const dir = tempDir();
  writeFileSync(join(dir, 'main.py'), '');
  writeFileSync(join(dir, 'plugin.yaml'), text);
  return validatePlugin(dir);
}

function problems(text: string): Array<{ path: string; message: string; line?: number }> {
  const r = validatePlugin(
    ((): string => {
      const dir = tempDir();
      writeFileSync(join(dir, 'main.py'), '');
      writeFileSync(join(dir, 'plugin.yaml'), text);
      return dir;
    })(),
  );
  return r.ok ? [] : r.problems;
}

const tool = (i: number, extra: Record<string, unknown> = {}) => ({ name: `t${i}`, description: 'x', input: { type: 'object' }, ...extra });
/** A valid schema whose JSON nests exactly `depth` objects and lists (each schema level is two: itself and `properties`). */
const nested = (depth: number): Record<string, unknown> => {
  let s: Record<string, unknown> = depth % 2 === 0 ? { type: 'array', default: [] } : { type: 'string' };
  for (let d = depth % 2 === 0 ? 2 : 1; d < depth; d += 2) s = { type: 'object', properties: { a: s } };
  return s;
};

test('11,000 tools: refused by the manifest byte cap before YAML is parsed', (t) => {
  const text = stringify(manifestObject({ tools: Array.from({ length: 11_000 }, (_, i) => tool(i)) }));
  t.true(text.length > MAX_MANIFEST_BYTES);
  const p = problems(text);
  t.is(p.length, 1);
  t.regex(p[0]!.message, /bytes; the limit is 262144/);
});

test('more tools than the cap: one problem at `tools`, and no tool schema is compiled (their errors go unreported)', (t) => {
  // Flow style packs ~5,000 tools under the byte cap; every schema is invalid, so a compile would show.
  const bad = '{name: tNNN, description: x, input: {type: object, properties: {a: {type: 12}}}}';
  const list = Array.from({ length: 3000 }, (_, i) => `  - ${bad.replace('NNN', String(i))}`).join('\n');
  const text = `apiVersion: airlock/v1\nname: demo\nversion: 1.0.0\nruntime: python\nentry: main.py\ntools:\n${list}\n`;
  t.true(text.length < MAX_MANIFEST_BYTES);
  const p = problems(text);
  t.deepEqual(
    p.map((x) => [x.path, x.line]),
    [['tools', 7]],
  );
  t.regex(p[0]!.message, /lists 3000 tools; the limit is 256 \(split the plugin in several\)/);
  // Within the cap the same schema is compiled and its error reported.
  t.regex(
    problems(stringify(manifestObject({ tools: [tool(0, { input: { type: 'object', properties: { a: { type: 12 } } } })] })))[0]!.message,
    /not a valid JSON Schema/,
  );
});

test('a tool schema nested past the depth cap or past the size cap is a problem at its field, not compiled', (t) => {
  const deep = problems(stringify(manifestObject({ tools: [tool(0, { input: nested(L.schemaDepth + 1) })] })));
  t.deepEqual(
    deep.map((p) => p.path),
    ['tools[0].input'],
  );
  t.regex(deep[0]!.message, /input schema nests deeper than 32 levels/);
  const bigProps = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`field_${i}`, { type: 'string', description: 'some words here' }]));
  const big = problems(stringify(manifestObject({ tools: [tool(0, { output: { type: 'object', properties: bigProps } })] })));
  t.deepEqual(
    big.map((p) => p.path),
    ['tools[0].output'],
  );
  t.regex(big[0]!.message, /output schema is \d+ characters as JSON; the limit is 65536/);
});

test('descriptions, lists and text fields past their caps are problems at their field, each with its line', (t) => {
  const over = manifestObject({
    description: 'd'.repeat(L.description + 1),
    tools: [tool(0, { description: 'x'.repeat(L.toolDescription + 1) })],
    permissions: {
      network: { allow: Array.from({ length: L.networkAllow + 1 }, (_, i) => `h${i}.example.com`) },
      filesystem: Array.from({ length: L.filesystem + 1 }, (_, i) => ({ path: `./d${i}`, mount: `/d${i}` })),
      env: Array.from({ length: L.env + 1 }, (_, i) => `V${i}`),
    },
    build: { args: Object.fromEntries(Array.from({ length: L.buildArgs + 1 }, (_, i) => [`A${i}`, 'v'])) },
    version: `1.0.0-${'a'.repeat(300)}`,
  });
  const p = problems(stringify(over));
  const byPath = new Map(p.map((x) => [x.path, x]));
  for (const [path, message] of [
    ['description', /a plugin description is at most 2048 characters/],
    ['version', /is 306 characters; the limit is 256/],
    ['tools[0].description', /a tool description is at most 2048 characters/],
    ['permissions.network.allow', /lists 257 hosts; the limit is 256/],
    ['permissions.filesystem', /lists 65 paths; the limit is 64/],
    ['permissions.env', /lists 257 variables; the limit is 256/],
    ['build.args', /at most 64 build args/],
  ] as const) {
    t.regex(byPath.get(path)?.message ?? `no problem at ${path}: ${p.map((x) => x.path).join(', ')}`, message);
    t.true((byPath.get(path)?.line ?? 0) > 0);
  }
});

test('a manifest at every cap at once validates', (t) => {
  const schema = (i: number) => ({ type: 'object', properties: { [`f${i}`]: { type: 'string' } }, required: [`f${i}`] });
  const m = manifestObject({
    description: 'd'.repeat(L.description),
    tools: Array.from({ length: L.tools }, (_, i) => ({
      ...tool(i, { input: schema(i), output: schema(i) }),
      description: i === 0 ? 'x'.repeat(L.toolDescription) : 'x',
    })),
    permissions: {
      network: { allow: Array.from({ length: L.networkAllow }, (_, i) => `h${i}.example.com`) },
      filesystem: Array.from({ length: L.filesystem }, (_, i) => ({ path: `./d${i}`, mount: `/d${i}` })),
      env: Array.from({ length: L.env }, (_, i) => `V${i}`),
    },
  });
  (m.tools as Array<Record<string, unknown>>)[1]!.input = nested(L.schemaDepth);
  const text = stringify(m);
  t.true(text.length <= MAX_MANIFEST_BYTES, `${text.length}`);
  const r = validate(text);
  t.true(r.ok, r.ok ? '' : JSON.stringify(r.problems.slice(0, 3)));
});

test('tools sharing one schema through YAML aliases: compiled once, its problems reported at every tool that uses it', (t) => {
  const aliases = Array.from({ length: 50 }, (_, i) => `  - {name: u${i}, description: x, input: *bad}`).join('\n');
  const text = `apiVersion: airlock/v1\nname: demo\nversion: 1.0.0\nruntime: python\nentry: main.py\ntools:\n  - name: t0\n    description: x\n    input: &bad\n      type: object\n      properties: {a: {type: 12}}\n${aliases}\n`;
  const p = problems(text);
  t.is(p.length, 51);
  t.deepEqual(
    p.slice(0, 2).map((x) => x.path),
    ['tools[0].input.properties.a.type', 'tools[1].input.properties.a.type'],
  );
  t.true(p.every((x) => /input is not a valid JSON Schema/.test(x.message)));
});
