/**
 * Property tests: whatever text arrives as plugin.yaml, the parser returns
 * structured problems (file, 1-based position, message) and never throws.
 */
import test from 'ava';
import fc from 'fast-check';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { isAirlockError, type Problem } from '../../src/errors.ts';
import { loadPlugin, validateManifestText } from '../../src/manifest/index.ts';
import { editDistance } from '../../src/manifest/suggest.ts';
import { fuzz } from '../helpers/fuzz.ts';
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
    result.problems.every(
      (p) => p.file === file && typeof p.message === 'string' && p.message.length > 0 && (p.line === undefined || (p.line >= 1 && (p.column ?? 1) >= 1)),
    )
  );
}

test('arbitrary text never crashes the parser and always yields structured problems', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => wellFormed(t, text)),
      fuzz(400),
    ),
  );
});

test('YAML-looking text (keys, colons, dashes, indentation, flow) never crashes the parser', (t) => {
  const token = fc.constantFrom(
    'apiVersion',
    'name',
    'tools',
    'input',
    ':',
    ' ',
    '  ',
    '- ',
    '\n',
    '[',
    ']',
    '{',
    '}',
    '&a',
    '*a',
    '!!str',
    '"',
    "'",
    '#',
    '|',
    '>',
    'airlock/v1',
    '1.0.0',
    '\t',
    '---',
    '...',
  );
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), (parts) => wellFormed(t, parts.join(''))),
      fuzz(400),
    ),
  );
});

test('any JSON value serialized as YAML never crashes the parser', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => wellFormed(t, stringify(value))),
      fuzz(300),
    ),
  );
});

test('a valid manifest with one field replaced by an arbitrary value never crashes the parser', (t) => {
  const keys = ['apiVersion', 'name', 'version', 'runtime', 'entry', 'tools', 'permissions', 'resources', 'build', 'isolation', 'wasm'];
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 3 }), (key, value) => wellFormed(t, stringify(manifestObject({ [key]: value })))),
      fuzz(300),
    ),
  );
});

// ---- mutations of the valid golden manifests ----

const validRoot = join(import.meta.dirname, '..', '..', 'fixtures', 'manifests', 'valid');
/** Each valid fixture copied to a scratch folder (its files too), with its manifest as a plain object. */
const fixtures = readdirSync(validRoot).map((name) => {
  const dir = join(tempDir(), name);
  cpSync(join(validRoot, name), dir, { recursive: true });
  return { name, dir, object: parse(readFileSync(join(dir, 'plugin.yaml'), 'utf8')) as Record<string, unknown> };
});

type Seg = string | number;

/** Every path to a value in `v` (the root excluded). */
function pathsIn(v: unknown, at: Seg[] = []): Seg[][] {
  if (v === null || typeof v !== 'object') return [];
  const entries: [Seg, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  return entries.flatMap(([k, x]) => [[...at, k], ...pathsIn(x, [...at, k])]);
}

function valueAt(v: unknown, path: readonly Seg[]): { found: boolean; value?: unknown } {
  let cur = v;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return { found: false };
    const key = Array.isArray(cur) && typeof seg === 'string' && /^\d+$/.test(seg) ? Number(seg) : seg;
    if (!Object.hasOwn(cur, key)) return { found: false };
    cur = (cur as Record<Seg, unknown>)[key];
  }
  return { found: true, value: cur };
}

/** `tools[0].input.type` → ['tools', 0, 'input', 'type'] (keys come from `key`, so hold no "." or "["). */
function segments(path: string): Seg[] {
  return path === '' ? [] : [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
}

const key = fc.stringMatching(/^[a-z_]{1,8}$/);
const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const value = fc.oneof(
  { arbitrary: scalar, weight: 4 },
  fc.array(scalar, { maxLength: 3 }),
  fc.dictionary(key, fc.oneof(scalar, fc.array(scalar, { maxLength: 2 })), { maxKeys: 3 }),
  fc.dictionary(key, fc.dictionary(key, scalar, { maxKeys: 2 }), { maxKeys: 2 }),
);

type Mutation = { op: 'drop' | 'retype' | 'rename' | 'add'; pick: number; key: string; value: unknown };
const mutation = fc.record({ op: fc.constantFrom('drop', 'retype', 'rename', 'add'), pick: fc.nat(), key, value }) as fc.Arbitrary<Mutation>;

function mutate(object: Record<string, unknown>, mutations: Mutation[]): Record<string, unknown> {
  const out = structuredClone(object);
  for (const m of mutations) {
    const paths = pathsIn(out);
    if (paths.length === 0) break;
    const path = paths[m.pick % paths.length]!;
    const parent = valueAt(out, path.slice(0, -1)).value as Record<Seg, unknown> | unknown[];
    const last = path[path.length - 1]!;
    if (m.op === 'retype') (parent as Record<Seg, unknown>)[last] = m.value;
    else if (m.op === 'drop') Array.isArray(parent) ? parent.splice(Number(last), 1) : delete parent[last];
    else if (Array.isArray(parent)) parent.push(m.value);
    else if (m.op === 'add') parent[m.key] = m.value;
    else if (!(m.key in parent)) {
      parent[m.key] = parent[last];
      delete parent[last];
    }
  }
  return out;
}

/** What every problem must be: a field of the input (or the parent of a missing one) at a real position. */
function checkProblems(text: string, data: unknown, problems: readonly Problem[]): void {
  const lines = text.split('\n');
  for (const p of problems) {
    const where = `${p.path || '(root)'}: ${p.message}`;
    const path = segments(p.path);
    const at = valueAt(data, path);
    if (!at.found && !valueAt(data, path.slice(0, -1)).found) throw new Error(`names a field that is not in the input, nor is its parent: ${where}`);
    if (p.line === undefined || p.column === undefined) throw new Error(`has no position: ${where}`);
    if (p.line < 1 || p.line > lines.length || p.column < 1 || p.column > lines[p.line - 1]!.length + 1)
      throw new Error(`position ${p.line}:${p.column} is outside the text: ${where}`);
    const there = lines[p.line - 1]!.slice(p.column - 1);
    const leaf = path[path.length - 1];
    if (
      p.message.startsWith('unknown field') &&
      typeof leaf === 'string' &&
      !/^['"]?/
        .exec(there)![0]
        .concat(leaf)
        .split('')
        .every((c, i) => there[i] === c)
    ) {
      throw new Error(`points at ${p.line}:${p.column} ("${there.slice(0, 30)}"), not at the key: ${where}`);
    }
  }
}

function loadOrProblems(dir: string, text: string): { manifest: unknown } | { problems: Problem[] } {
  writeFileSync(join(dir, 'plugin.yaml'), text);
  try {
    return { manifest: loadPlugin(dir).manifest };
  } catch (err) {
    if (!isAirlockError(err, 'invalid-manifest')) throw new Error(`threw something other than invalid-manifest: ${String(err)}`);
    return { problems: err.problems };
  }
}

test('a valid golden manifest with fields dropped, renamed, retyped or added is valid or invalid-manifest, each problem naming a field of the input (or the parent of a missing one) at its position', (t) => {
  let valid = 0;
  let invalid = 0;
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.constantFrom(...fixtures), fc.array(mutation, { minLength: 1, maxLength: 3 }), (fixture, mutations) => {
        const data = mutate(fixture.object, mutations);
        const text = stringify(data);
        const got = loadOrProblems(fixture.dir, text);
        if ('manifest' in got) {
          valid++;
          return;
        }
        invalid++;
        if (got.problems.length === 0) throw new Error('invalid without a problem');
        checkProblems(text, data, got.problems);
      }),
      fuzz(300),
    ),
  );
  t.log(`${valid} still valid, ${invalid} invalid`);
  t.true(invalid > 100, `${valid} still valid, ${invalid} invalid`);
});

test('a valid manifest round-trips: the parsed value written back as YAML parses to the same value', (t) => {
  let valid = 0;
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.constantFrom(...fixtures), fc.array(mutation, { maxLength: 2 }), (fixture, mutations) => {
        const first = loadOrProblems(fixture.dir, stringify(mutate(fixture.object, mutations)));
        if (!('manifest' in first)) return;
        valid++;
        const again = loadOrProblems(fixture.dir, stringify(first.manifest));
        if (!('manifest' in again)) throw new Error(`written back, it is invalid: ${again.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
        if (JSON.stringify(again.manifest) !== JSON.stringify(first.manifest))
          throw new Error(`${JSON.stringify(first.manifest)} came back as ${JSON.stringify(again.manifest)}`);
      }),
      fuzz(200),
    ),
  );
  t.true(valid > 50, `${valid} valid`);
});

test('a field name one typo away from a known one gets a "did you mean" naming a field at least that close', (t) => {
  const known = ['apiVersion', 'name', 'version', 'description', 'runtime', 'entry', 'wasm', 'isolation', 'tools', 'permissions', 'resources', 'build'];
  const typo = fc
    .record({
      field: fc.constantFrom(...known),
      edit: fc.constantFrom('insert', 'delete', 'substitute', 'transpose'),
      at: fc.nat(),
      letter: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'),
    })
    .map(({ field, edit, at, letter }) => {
      const i = at % field.length;
      const typed =
        edit === 'insert'
          ? field.slice(0, i) + letter + field.slice(i)
          : edit === 'delete'
            ? field.slice(0, i) + field.slice(i + 1)
            : edit === 'substitute'
              ? field.slice(0, i) + letter + field.slice(i + 1)
              : field.slice(0, i) + field.slice(i + 1, i + 2) + field.slice(i, i + 1) + field.slice(i + 2);
      return { field, typed };
    })
    .filter(({ typed }) => typed !== '' && !known.some((k) => k.toLowerCase() === typed.toLowerCase()));
  const fixture = fixtures.find((f) => f.name === 'python-full')!;
  t.notThrows(() =>
    fc.assert(
      fc.property(typo, ({ field, typed }) => {
        const object = { ...fixture.object };
        object[typed] = object[field] ?? 'x';
        delete object[field];
        const got = loadOrProblems(fixture.dir, stringify(object));
        if ('manifest' in got) throw new Error(`"${typed}" was accepted`);
        const p = got.problems.find((q) => q.path === typed);
        const guess = /did you mean "([^"]+)"\?/.exec(p?.hint ?? '')?.[1];
        if (guess === undefined) throw new Error(`no suggestion for "${typed}" (from "${field}"): ${JSON.stringify(p)}`);
        if (editDistance(typed.toLowerCase(), guess.toLowerCase()) > editDistance(typed.toLowerCase(), field.toLowerCase()))
          throw new Error(`"${typed}" suggests "${guess}", farther than "${field}"`);
      }),
      fuzz(300),
    ),
  );
});
