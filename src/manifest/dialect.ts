/**
 * Tool schemas are written in JSON Schema draft-07 (the manifest's dialect)
 * and leave the manifest in 2020-12: MCP reads a schema without `$schema` as
 * 2020-12 (SEP-1613, spec 2025-11-25), and a client need support no other
 * dialect, so a draft-07 `$schema` would not help one that only has a
 * 2020-12 validator. The host validates the same converted schema (Ajv2020),
 * so clients and host read one dialect.
 *
 * Meaning is kept as Ajv's draft-07 reads it (what the host enforced before):
 * `$ref` siblings apply in both. 2020-12-only keywords are unknown (so
 * without effect) in draft-07 and are dropped, lest a client start enforcing
 * them. Input sizes are bounded by the manifest check (depth and bytes).
 */

type Json = unknown;
type Obj = Record<string, Json>;

/** Keywords whose value is one schema (besides `items` and `additionalItems`). */
const ONE = new Set(['additionalProperties', 'contains', 'else', 'if', 'not', 'propertyNames', 'then']);
/** Keywords whose value maps names to schemas. */
const MAP = new Set(['properties', 'patternProperties', 'definitions', '$defs']);
/** Keywords whose value is a list of schemas. */
const LIST = new Set(['allOf', 'anyOf', 'oneOf']);
/** 2020-12 keywords draft-07 does not know: ignored there, so dropped here. */
const ONLY_2020 = new Set([
  'prefixItems',
  'unevaluatedItems',
  'unevaluatedProperties',
  'dependentRequired',
  'dependentSchemas',
  'minContains',
  'maxContains',
  '$anchor',
  '$dynamicRef',
  '$dynamicAnchor',
  '$recursiveRef',
  '$recursiveAnchor',
  '$vocabulary',
]);

const isObj = (v: Json): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The 2020-12 schema meaning what `schema` (draft-07) means. */
export function toDraft2020(schema: Obj): Obj {
  return convert(schema, schema, true) as Obj;
}

/** `node` converted; `resource` is the schema `#/...` pointers inside it resolve against. */
function convert(node: Json, resource: Obj, root: boolean): Json {
  if (!isObj(node)) return node;
  // A non-fragment `$id` starts a new resource: pointers below it resolve against it.
  const id = node.$id;
  const here = !root && typeof id === 'string' && !id.startsWith('#') ? node : resource;
  const out: Obj = {};
  const tuple = Array.isArray(node.items);
  for (const [k, v] of Object.entries(node)) {
    if (ONLY_2020.has(k)) continue;
    if (k === '$schema') {
      if (root) out.$schema = 'https://json-schema.org/draft/2020-12/schema';
      continue;
    }
    if (k === '$id' && typeof v === 'string') {
      // draft-07 names a plain anchor with `$id: "#name"` (or `base#name`); 2020-12 with `$anchor`.
      const hash = v.indexOf('#');
      const base = hash < 0 ? v : v.slice(0, hash);
      const anchor = hash < 0 ? '' : v.slice(hash + 1);
      if (base !== '') out.$id = base;
      if (anchor !== '') out.$anchor = anchor;
      continue;
    }
    if (k === '$ref' && typeof v === 'string') out.$ref = v.startsWith('#/') ? `#${translatePointer(here, v.slice(1))}` : v;
    else if (k === 'items') {
      if (tuple) out.prefixItems = (v as Json[]).map((s) => convert(s, here, false));
      else out.items = convert(v, here, false);
    } else if (k === 'additionalItems') {
      // Without a tuple draft-07 ignores it; with one it is what 2020-12 calls `items`.
      if (tuple) out.items = convert(v, here, false);
    } else if (k === 'dependencies' && isObj(v)) {
      for (const [name, dep] of Object.entries(v)) {
        const key = Array.isArray(dep) ? 'dependentRequired' : 'dependentSchemas';
        ((out[key] ??= {}) as Obj)[name] = Array.isArray(dep) ? dep : convert(dep, here, false);
      }
    } else if (k === 'definitions' && isObj(v) && !Object.hasOwn(node, '$defs')) out.$defs = convertMap(v, here);
    else if (MAP.has(k) && isObj(v)) out[k] = convertMap(v, here);
    else if (LIST.has(k) && Array.isArray(v)) out[k] = v.map((s) => convert(s, here, false));
    else if (ONE.has(k)) out[k] = convert(v, here, false);
    else out[k] = v;
  }
  return out;
}

function convertMap(map: Obj, resource: Obj): Obj {
  return Object.fromEntries(Object.entries(map).map(([name, s]) => [name, convert(s, resource, false)]));
}

/**
 * A JSON pointer into the draft-07 `schema`, as a pointer into its
 * conversion: keyword segments renamed, names and indexes kept; from where
 * the pointer leaves schema positions (into `enum`, `default`...) it is kept.
 */
function translatePointer(schema: Obj, pointer: string): string {
  const segs = pointer.split('/').slice(1);
  const decode = (s: string): string => s.replaceAll('~1', '/').replaceAll('~0', '~');
  const out: string[] = [];
  let node: Json = schema;
  let i = 0;
  while (i < segs.length && isObj(node)) {
    const seg = segs[i] as string;
    const k = decode(seg);
    const next = segs[i + 1];
    const sub = node[k];
    if (k === 'items' && Array.isArray(sub) && next !== undefined) {
      out.push('prefixItems', next);
      node = sub[Number(next)];
      i += 2;
    } else if (k === 'additionalItems' && Array.isArray(node.items)) {
      out.push('items');
      node = sub;
      i += 1;
    } else if (k === 'dependencies' && isObj(sub) && next !== undefined) {
      const dep = sub[decode(next)];
      out.push(Array.isArray(dep) ? 'dependentRequired' : 'dependentSchemas', next);
      node = Array.isArray(dep) ? undefined : dep;
      i += 2;
    } else if (MAP.has(k) && isObj(sub) && next !== undefined) {
      out.push(k === 'definitions' && !Object.hasOwn(node, '$defs') ? '$defs' : seg, next);
      node = sub[decode(next)];
      i += 2;
    } else if (LIST.has(k) && Array.isArray(sub) && next !== undefined) {
      out.push(seg, next);
      node = sub[Number(next)];
      i += 2;
    } else if (ONE.has(k) || k === 'items') {
      out.push(seg);
      node = sub;
      i += 1;
    } else break;
  }
  return ['', ...out, ...segs.slice(i)].join('/');
}
