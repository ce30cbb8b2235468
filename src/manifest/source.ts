/**
 * YAML text → a value checked against a zod schema, with every problem
 * reported at once as `file:line:column`, the field path, what was expected
 * and how to fix it. Used for plugin.yaml and for host policy files.
 * Never throws for bad input: problems are data.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import type { Problem } from '../errors.ts';
import { byPosition, formatPath, type PathSegment, type Positions, sourceFromPositions, type YamlSource } from './positions.ts';
import { didYouMean } from './suggest.ts';

export { byPosition, formatPath, sourceFromPositions, type PathSegment, type Positions, type YamlSource };

/**
 * Deepest nesting a document may have: a manifest is a page of fields and
 * JSON Schemas, and every walk below (positions, zod, ajv) is linear only
 * while paths stay short.
 */
export const MAX_YAML_DEPTH = 64;

/** On failure `data` is the parsed YAML (when it parsed), so callers can still check what they can. */
export type Checked<T> = { ok: true; value: T; source: YamlSource } | { ok: false; problems: Problem[]; source: YamlSource; data?: unknown };

export function parseYamlSource(file: string, text: string): { source: YamlSource; problems: Problem[]; data: unknown } {
  const lineCounter = new LineCounter();
  // Repeated keys are found by scan() below in linear time; yaml's own uniqueKeys check compares every
  // key with every other one of its map (60,000 keys took 69 s), and the text is the plugin's.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, strict: true });
  const pos = (offset: number | undefined): { line: number; column: number } => {
    if (offset === undefined) return { line: 1, column: 1 };
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const problems: Problem[] = [];
  for (const err of doc.errors) {
    const p = pos(err.pos[0]);
    problems.push({ file, line: p.line, column: p.column, path: '', message: `YAML syntax: ${firstLine(err.message)}`, hint: yamlHint(err.code) });
  }
  const { positions, problems: found } = problems.length > 0 ? { positions: EMPTY_POSITIONS, problems: [] } : scan(file, doc, text, pos);
  problems.push(...found);
  const source = sourceFromPositions(file, positions);
  if (problems.length > 0) return { source, problems, data: undefined };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // Alias bombs ("billion laughs") and similar: refuse, do not expand.
    problems.push({ file, line: 1, column: 1, path: '', message: `YAML: ${err instanceof Error ? err.message : String(err)}` });
  }
  return { source, problems, data };
}

const EMPTY_POSITIONS: Positions = { values: [], keys: [], texts: [] };

/**
 * One pass over the document, without recursion (the nesting is the
 * plugin's): records every node's position, and refuses repeated keys and
 * nesting deeper than MAX_YAML_DEPTH.
 */
function scan(
  file: string,
  doc: Document.Parsed,
  text: string,
  pos: (offset: number | undefined) => { line: number; column: number },
): { positions: Positions; problems: Problem[] } {
  const positions: Positions = { values: [], keys: [], texts: [] };
  const problems: Problem[] = [];
  const at = (range: readonly number[] | null | undefined): [number, number] => {
    const p = pos(range?.[0]);
    return [p.line, p.column];
  };
  const stack: { node: unknown; path: PathSegment[] }[] = [{ node: doc.contents, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    const range = (node as { range?: [number, number, number] | null }).range;
    const key = JSON.stringify(path);
    if (range) positions.values.push([key, at(range)]);
    if (isScalar(node)) {
      if (range) positions.texts.push([key, text.slice(range[0], range[1])]);
      continue;
    }
    if (!isMap(node) && !isSeq(node)) continue;
    if (path.length >= MAX_YAML_DEPTH) {
      const [line, column] = at(range);
      problems.push({
        file,
        line,
        column,
        path: formatPath(path),
        message: `nested deeper than ${MAX_YAML_DEPTH} levels`,
        hint: 'flatten it: a manifest is a page of fields and small JSON Schemas',
      });
      continue;
    }
    if (isSeq(node)) {
      for (const [i, item] of node.items.entries()) stack.push({ node: item, path: [...path, i] });
      continue;
    }
    const seen = new Set<unknown>();
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const k = item.key;
      if (isScalar(k)) {
        const [line, column] = at(k.range);
        if (seen.has(k.value)) {
          problems.push({ file, line, column, path: '', message: 'YAML syntax: Map keys must be unique', hint: yamlHint('DUPLICATE_KEY') });
          continue;
        }
        seen.add(k.value);
        positions.keys.push([`${key}\0${String(k.value)}`, [line, column]]);
        stack.push({ node: item.value, path: [...path, String(k.value)] });
      }
    }
  }
  return { positions, problems };
}

/** Parses YAML text and checks it against `schema`; all problems at once. */
export function checkYaml<S extends z.ZodType>(file: string, text: string, schema: S, what: string): Checked<z.infer<S>> {
  const { source, problems, data } = parseYamlSource(file, text);
  if (problems.length > 0) return { ok: false, problems, source };
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    return {
      ok: false,
      source,
      problems: [
        {
          file,
          line: 1,
          column: 1,
          path: '',
          message: `${what} must be a YAML mapping of fields, got ${describe(data)}`,
          hint: what === 'plugin.yaml' ? 'start from `airlock init <name>` or the README example' : undefined,
        },
      ],
    };
  }
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data, source };
  const found = issuesToProblems(result.error.issues, schema, data, source);
  found.sort(byPosition);
  return { ok: false, source, problems: found, data };
}

const MAX_UNKNOWN_KEYS_LISTED = 100;

export function issuesToProblems(issues: readonly z.core.$ZodIssue[], schema: z.ZodType, data: unknown, source: YamlSource): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((s): s is PathSegment => typeof s !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(schema, path);
      // A field put at the wrong level ("timeout" at the top) is suggested where it belongs.
      const nested = known.flatMap((k) => keysAt(schema, [...path, k]).map((n) => `${k}.${n}`));
      // Each key is listed up to a bound; past it one line counts the rest (a file of 10^5 junk keys needs no 10^5 hints).
      const listed = issue.keys.slice(0, MAX_UNKNOWN_KEYS_LISTED);
      if (issue.keys.length > listed.length) {
        out.push({
          file: source.file,
          ...source.locate(path),
          path: formatPath(path),
          message: `${issue.keys.length - listed.length} more unknown fields after the first ${listed.length}`,
          hint: 'remove them',
        });
      }
      for (const key of listed) {
        const at = source.locateKey(path, key);
        const guess = didYouMean(key, known) ?? nestedGuess(key, nested);
        out.push({
          file: source.file,
          ...at,
          path: formatPath([...path, key]),
          message: `unknown field "${key}"`,
          hint: guess !== undefined ? `did you mean "${guess}"?` : known.length > 0 ? `remove it; allowed here: ${known.join(', ')}` : 'remove it',
        });
      }
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Sizes are `128Mi` or a number: report the string branch, which is what people write.
      const branch = issue.errors.find((e) => e.every((i) => i.code !== 'invalid_type')) ?? issue.errors[0]!;
      out.push(
        ...issuesToProblems(
          branch.map((i) => ({ ...i, path: [...issue.path, ...i.path] })),
          schema,
          data,
          source,
        ),
      );
      continue;
    }
    const value = valueAt(data, path);
    // A problem with a key itself (an unknown keyword in a tool schema) is placed at the key.
    const atKey = issue.code === 'custom' && (issue.params as { atKey?: unknown } | undefined)?.atKey === true && path.length > 0;
    const at = atKey ? source.locateKey(path.slice(0, -1), String(path.at(-1))) : source.locate(path);
    const written = source.textAt(path);
    // `version: 1.0` is read by YAML as a number; quoting is the fix only when the quoted text is valid.
    const leaf = nodesAt(schema, path)[0];
    const unquoted =
      issue.code === 'invalid_type' &&
      issue.expected === 'string' &&
      typeof value !== 'object' &&
      value !== undefined &&
      written !== undefined &&
      leaf?.safeParse(written).success;
    out.push({
      file: source.file,
      ...at,
      path: formatPath(path),
      message: unquoted
        ? `expected text, got ${written} (YAML reads it as ${typeof value === 'number' ? 'a number' : `a ${typeof value}`})`
        : messageFor(issue, value, written),
      hint: unquoted ? `quote it: \`${lastKey(path)}: "${written}"\`` : (ownHint(issue) ?? hintFor(schema, path)),
    });
  }
  return out;
}

function messageFor(issue: z.core.$ZodIssue, value: unknown, written: string | undefined): string {
  if (issue.code === 'invalid_type' && value === undefined) return 'missing required field';
  if (issue.code === 'invalid_type') return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${written ?? describe(value)}`;
  if (issue.code === 'invalid_value' && issue.values.length > 1) {
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(value)}`;
  }
  const msg = issue.message;
  if (value !== undefined && (typeof value !== 'object' || value === null) && !msg.includes(JSON.stringify(value))) {
    return `${msg}, got ${describe(value)}`;
  }
  return msg;
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping of fields',
  record: 'a mapping of fields',
  array: 'a list',
};

/** Cross-field checks carry their own fix in `params.hint`. */
function ownHint(issue: z.core.$ZodIssue): string | undefined {
  const hint = issue.code === 'custom' ? (issue.params as { hint?: unknown } | undefined)?.hint : undefined;
  return typeof hint === 'string' ? hint : undefined;
}

function lastKey(path: readonly PathSegment[]): string {
  return [...path].reverse().find((s): s is string => typeof s === 'string') ?? '';
}

function nestedGuess(key: string, nested: string[]): string | undefined {
  const leaf = didYouMean(
    key,
    nested.map((n) => n.slice(n.indexOf('.') + 1)),
  );
  return leaf === undefined ? undefined : nested.find((n) => n.endsWith(`.${leaf}`));
}

function hintFor(schema: z.ZodType, path: readonly PathSegment[]): string | undefined {
  const example = metaAt(schema, path)?.examples;
  if (!Array.isArray(example) || example.length === 0 || path.length === 0) return undefined;
  const shown = typeof example[0] === 'string' ? example[0] : JSON.stringify(example[0]);
  // A list item is written "- value"; a field "key: value".
  return typeof path[path.length - 1] === 'number' ? `write e.g. \`- ${shown}\`` : `write e.g. \`${lastKey(path)}: ${shown}\``;
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PathSegment, unknown>)[seg];
  }
  return cur;
}

// ---- walking the zod schema, to find the allowed keys and examples at a path ----

type AnyDef = {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
};

function defOf(s: z.ZodType): AnyDef {
  return (s as unknown as { _zod: { def: AnyDef } })._zod.def;
}

/** The node at `path`, with every wrapper (optional, default, pipe) on the way kept, outermost first. */
function nodesAt(root: z.ZodType, path: readonly PathSegment[]): z.ZodType[] {
  let layers = unwrap(root);
  for (const seg of path) {
    const inner = layers[layers.length - 1]!;
    const def = defOf(inner);
    let next: z.ZodType | undefined;
    if (def.type === 'object' && typeof seg === 'string') next = def.shape?.[seg];
    else if (def.type === 'array') next = def.element;
    else if (def.type === 'record') next = def.valueType;
    else if (def.type === 'union') next = def.options?.map((o) => nodesAt(o, [seg])).find((l) => l.length > 0)?.[0];
    if (next === undefined) return [];
    layers = unwrap(next);
  }
  return layers;
}

function unwrap(s: z.ZodType): z.ZodType[] {
  const layers = [s];
  for (;;) {
    const def = defOf(layers[layers.length - 1]!);
    const inner =
      def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault'
        ? def.innerType
        : def.type === 'pipe'
          ? def.in
          : undefined;
    if (inner === undefined) return layers;
    layers.push(inner);
  }
}

function keysAt(root: z.ZodType, path: readonly PathSegment[]): string[] {
  const node = nodesAt(root, path).at(-1);
  if (node === undefined) return [];
  const def = defOf(node);
  return def.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

function metaAt(root: z.ZodType, path: readonly PathSegment[]): { examples?: unknown[]; description?: string } | undefined {
  for (const node of nodesAt(root, path)) {
    const meta = z.globalRegistry.get(node) as { examples?: unknown[]; description?: string } | undefined;
    if (meta?.examples !== undefined) return meta;
  }
  return undefined;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

function yamlHint(code: string): string | undefined {
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'each field may appear once; remove one of them';
    case 'TAB_AS_INDENT':
      return 'indent with spaces, not tabs';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
      return 'check the indentation and the ":" after each field name';
    default:
      return undefined;
  }
}
