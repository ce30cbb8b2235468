/**
 * Regular expressions a plugin writes (JSON Schema `pattern` and
 * `patternProperties`, ignore-file globs) run on the host's event loop. V8's
 * engine backtracks, so one pattern such as `^(a+)+$` can hold the loop for
 * seconds; these run on RE2 (re2js, pure JS), whose matching time is linear
 * in the text. The syntax RE2 cannot run in linear time (backreferences,
 * lookahead, lookbehind) is refused when the pattern is compiled.
 */
import { Ajv, type Options } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { RE2JS } from 're2js';

/** What Ajv and the ignore matcher need of a compiled pattern. */
export interface LinearRegExp {
  test(text: string): boolean;
  /** Ajv caches compiled patterns by this text, so it must name the pattern. */
  toString(): string;
}

/** A pattern RE2 does not accept; the message says what to change. */
export class UnsupportedPatternError extends Error {
  readonly pattern: string;
  constructor(pattern: string, reason: string) {
    super(`pattern ${JSON.stringify(pattern)} cannot run in linear time: ${reason} (backreferences and lookahead/lookbehind are not supported)`);
    this.name = 'UnsupportedPatternError';
    this.pattern = pattern;
  }
}

/**
 * Compiles an ECMAScript pattern (as JSON Schema writes it) for RE2.
 * `flags` may hold `i`, `m` and `s`; `u` is accepted and changes nothing (RE2 always reads code points).
 */
export function linearRegExp(pattern: string, flags = ''): LinearRegExp {
  let re: RE2JS;
  try {
    let f = 0;
    if (flags.includes('i')) f |= RE2JS.CASE_INSENSITIVE;
    if (flags.includes('m')) f |= RE2JS.MULTILINE;
    if (flags.includes('s')) f |= RE2JS.DOTALL;
    re = RE2JS.compile(RE2JS.translateRegExp(pattern), f);
  } catch (err) {
    throw new UnsupportedPatternError(pattern, err instanceof Error ? err.message : String(err));
  }
  const text = `/${pattern}/${flags}`;
  return { test: (s) => re.test(s), toString: () => text };
}

/** Ajv's `code.regExp` engine: the same compiler, called as `regExp(pattern, flags)`. */
const ajvRegExp = Object.assign((pattern: string, flags: string) => linearRegExp(pattern, flags), {
  // Only read when Ajv writes standalone code, which Airlock never does.
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
