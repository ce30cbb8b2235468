/**
 * A tool schema's compiled validator, remembered: the code Ajv generated for
 * it (Ajv's standalone form of exactly what it would run through
 * `new Function`), so a fresh process's first call checks its input without
 * loading Ajv (~40 ms of `airlock call`'s critical path: issue 21).
 *
 * Kept by the manifest check's cache (../manifest/check-cache.ts, kind
 * 'validator'): keyed by the checker (which holds ../manifest/regexp.ts, the
 * Ajv and re2js versions), the options below and the schema's exact text, and
 * sealed, so an entry is only ever used for the schema text it was generated
 * from, by the same Ajv. The schema was checked and compiled by the manifest
 * check before any validator of it is made (the host compiles only loaded
 * tools). Patterns stay on RE2: the code calls `linearRegExp`, which is
 * given ../manifest/linear-regexp.ts's compiler, and it may require only Ajv's
 * runtime helpers.
 */
import type { ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';
import { checkEntryName, recall, remember } from '../manifest/check-cache.ts';
import { lazyModule } from '../lazy.ts';

/** RE2, loaded by the first pattern a kept validator compiles (not Ajv: ../manifest/regexp.ts loads that). */
const linear = lazyModule<typeof import('../manifest/linear-regexp.ts')>(import.meta.url, '../manifest/linear-regexp');
const linearRegExp = (pattern: string, flags?: string) => linear().linearRegExp(pattern, flags);

/** The options every tool validator is compiled with (catalog.ts): part of the key. */
export const VALIDATOR_OPTIONS = { allErrors: true, validateSchema: false } as const;

/** The shape of what is kept (code run with `require` and `linearRegExp`); a new one misses every old entry. */
const FORMAT = 'ajv-standalone-cjs/1';

/** The Ajv runtime helpers generated code may require, and nothing else. */
const RUNTIME = /^ajv\/dist\/runtime\/[a-z0-9_]+$/;

const requireHere = createRequire(import.meta.url);

function keyText(schema: Record<string, unknown>): string {
  return `${FORMAT}\0${JSON.stringify(VALIDATOR_OPTIONS)}\0${JSON.stringify(schema)}`;
}

/** The file name of this schema's entry (under the manifest check cache's folder). */
export function validatorEntryName(schema: Record<string, unknown>): string {
  return checkEntryName('validator', keyText(schema));
}

/** The code kept for this exact schema, or undefined (none, damaged, or kept for another schema or checker). */
export function recalledValidatorCode(schema: Record<string, unknown>): string | undefined {
  const code = recall('validator', keyText(schema));
  return typeof code === 'string' ? code : undefined;
}

/** Runs kept code into a validator (Ajv's own standalone module form). */
export function validatorFromCode(code: string): ValidateFunction {
  const module = { exports: {} as unknown };
  const require = (id: string): unknown => {
    if (!RUNTIME.test(id)) throw new Error(`a kept validator asked for ${id}`);
    return requireHere(id);
  };
  new Function('module', 'exports', 'require', 'linearRegExp', code)(module, module.exports, require, linearRegExp);
  if (typeof module.exports !== 'function') throw new Error('a kept validator exported no function');
  return module.exports as ValidateFunction;
}

/** The validator kept for this schema, or undefined. */
export function recalledValidator(schema: Record<string, unknown>): ValidateFunction | undefined {
  const code = recalledValidatorCode(schema);
  if (code === undefined) return undefined;
  try {
    return validatorFromCode(code);
  } catch {
    // Cannot be run (it was sealed as written, so only an Airlock change does this): compiled anew.
    return undefined;
  }
}

/**
 * Keeps what `ajv` compiled for `schema` (`ajv` made with `code.source`), best effort: a schema Ajv cannot
 * write standalone code for is compiled again next time.
 */
export function rememberValidator(
  schema: Record<string, unknown>,
  ajv: Parameters<typeof import('ajv/dist/standalone/index.js').default>[0],
  validate: ValidateFunction,
): void {
  try {
    const standalone = requireHere('ajv/dist/standalone') as typeof import('ajv/dist/standalone/index.js');
    remember('validator', keyText(schema), standalone.default(ajv, validate));
  } catch {
    // See above.
  }
}
