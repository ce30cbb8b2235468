/**
 * Regular expressions a plugin writes (JSON Schema `pattern` and
 * `patternProperties`, ignore-file globs) run on the host's event loop. V8's
 * engine backtracks, so one pattern such as `^(a+)+$` can hold the loop for
 * seconds; these run on RE2 (re2js, pure JS), whose matching time is linear
 * in the text. The syntax RE2 cannot run in linear time (backreferences,
 * lookahead, lookbehind) is refused when the pattern is compiled.
 * Without Ajv (./regexp.ts makes the Ajv that uses it): a kept validator
 * (src/host/validator-cache.ts) runs its patterns with this alone.
 */
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
