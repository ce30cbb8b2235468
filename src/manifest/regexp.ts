/**
 * The Ajv that compiles plugin-written schemas: its patterns (`pattern`,
 * `patternProperties`) run on RE2 (./linear-regexp.ts), in linear time.
 */
import { Ajv, type Options } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { linearRegExp } from './linear-regexp.ts';

export { type LinearRegExp, linearRegExp, UnsupportedPatternError } from './linear-regexp.ts';

/** Ajv's `code.regExp` engine: the same compiler, called as `regExp(pattern, flags)`. */
const ajvRegExp = Object.assign((pattern: string, flags: string) => linearRegExp(pattern, flags), {
  // What Ajv's standalone code calls it (the kept validators: src/host/validator-cache.ts gives it under this name).
  code: 'linearRegExp',
});

/**
 * The one place an Ajv that compiles plugin-written schemas is made: every
 * such instance runs patterns on RE2. `strict: false` because authors write
 * draft-07 with vendor keywords, and those are not errors.
 */
export function pluginAjv(options: Options = {}): Ajv {
  return new Ajv({ strict: false, ...options, code: { ...options.code, regExp: ajvRegExp } });
}

/** As pluginAjv, for JSON Schema 2020-12: what tool schemas are once loaded (see dialect.ts). */
export function pluginAjv2020(options: Options = {}): Ajv2020 {
  return new Ajv2020({ strict: false, ...options, code: { ...options.code, regExp: ajvRegExp } });
}

/** Where in a JSON Schema `pattern` is written (as `pattern` or a `patternProperties` key), for the error's field path. */
export function patternPath(schema: unknown, pattern: string, path: (string | number)[] = []): (string | number)[] {
  if (schema === null || typeof schema !== 'object') return [];
  const o = schema as Record<string, unknown>;
  if (o.pattern === pattern) return [...path, 'pattern'];
  const props = o.patternProperties;
  if (props !== null && typeof props === 'object' && Object.hasOwn(props, pattern)) return [...path, 'patternProperties', pattern];
  for (const [k, v] of Array.isArray(schema) ? schema.entries() : Object.entries(o)) {
    const found = patternPath(v, pattern, [...path, k]);
    if (found.length > 0) return found;
  }
  return [];
}
