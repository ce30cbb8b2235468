/**
 * Unknown keywords in a tool's JSON Schema, as Ajv's strict mode
 * (`strictSchema`) finds them: a key of a (sub)schema that the validator does
 * not know (`requried: [name]`) is an error, not a silently ignored
 * annotation that leaves the tool unchecked. Found here rather than by a
 * strict compile because Ajv throws at the first one without saying where it
 * is; this walk reports each, at its path, so the manifest reader can give
 * the key's file:line:column.
 *
 * Vendor keywords are written `x-…` (the OpenAPI convention) and allowed.
 * The walk is a loop over the schema's subschemas (no recursion), so its cost
 * is linear in a schema the manifest check has already bounded (size, depth).
 */
import { didYouMean } from './suggest.ts';

type Path = Array<string | number>;

export interface UnknownKeyword {
  /** Path of the keyword within the schema (its last segment is the keyword). */
  path: Path;
  keyword: string;
  /** A known keyword it is probably a misspelling of. */
  guess?: string;
}

/** Keywords whose value is one subschema. */
const ONE = ['additionalProperties', 'additionalItems', 'contains', 'else', 'if', 'not', 'propertyNames', 'then'];
/** Keywords whose value maps names to subschemas. */
const MAP = ['properties', 'patternProperties', 'definitions', '$defs', 'dependencies'];
/** Keywords whose value is a list of subschemas. */
const LIST = ['allOf', 'anyOf', 'oneOf', 'items'];

/** At most this many are reported per schema: a schema of 5,000 junk keys needs no 5,000 lines. */
export const MAX_UNKNOWN_KEYWORDS = 100;

const isSchemaObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Each keyword of `schema` and its subschemas that `known` does not know (and is not `x-…`), up to MAX_UNKNOWN_KEYWORDS. */
export function unknownKeywords(schema: unknown, known: Readonly<Record<string, unknown>>): UnknownKeyword[] {
  const names = Object.keys(known);
  const found: UnknownKeyword[] = [];
  const stack: Array<[unknown, Path]> = [[schema, []]];
  while (stack.length > 0 && found.length < MAX_UNKNOWN_KEYWORDS) {
    const [node, path] = stack.pop()!;
    if (!isSchemaObject(node)) continue; // true/false schemas, or a value the meta-schema check reports
    for (const key of Object.keys(node)) {
      if (Object.hasOwn(known, key) || key.startsWith('x-')) continue;
      const guess = didYouMean(key, names);
      found.push({ path: [...path, key], keyword: key, ...(guess === undefined ? {} : { guess }) });
      if (found.length >= MAX_UNKNOWN_KEYWORDS) break;
    }
    for (const key of ONE) if (Object.hasOwn(node, key)) stack.push([node[key], [...path, key]]);
    for (const key of MAP) {
      const map = node[key];
      if (!Object.hasOwn(node, key) || !isSchemaObject(map)) continue;
      // `dependencies` values that are lists name properties; only object values are subschemas.
      for (const name of Object.keys(map)) stack.push([map[name], [...path, key, name]]);
    }
    for (const key of LIST) {
      const list = node[key];
      if (!Object.hasOwn(node, key)) continue;
      if (Array.isArray(list)) for (const [i, s] of list.entries()) stack.push([s, [...path, key, i]]);
      else if (key === 'items') stack.push([list, [...path, key]]);
    }
  }
  return found;
}
