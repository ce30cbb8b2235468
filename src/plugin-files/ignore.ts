/**
 * Ignore files (`.airlockignore`, else `.dockerignore`): what image builds
 * leave out of a plugin folder. Rules are gitignore's and Docker's: `#`
 * comments, `!` negation (the last matching rule wins), a trailing `/` for
 * folders only, a leading `/` or `./` (or a `/` inside) anchors at the
 * folder, otherwise a pattern matches at any depth. Patterns are matched by
 * glob.ts (no regular expressions, no backtracking); the file is read with
 * the bounded reader and its size, pattern count and pattern length capped.
 */
import { trimSlashes } from '../manifest/trim.ts';
import { fileError, isMissing } from './fail.ts';
import { classItems, compileGlob, matchGlobParts, pathParts, type Glob } from './glob.ts';
import { MAX_IGNORE_BYTES } from './limits.ts';
import { readPluginFile, readPluginFileSync } from './read.ts';

/** Left out of every context: VCS data, host-built dependencies, bytecode caches. */
export const DEFAULT_IGNORES = ['.git', 'node_modules', '__pycache__', '*.pyc', '.venv', '.airlock-cache', '.DS_Store'];
/** The ignore files read, first found wins: `.airlockignore`, else `.dockerignore`. */
export const IGNORE_FILES = ['.airlockignore', '.dockerignore'];
export const MAX_IGNORE_PATTERNS = 1000;
export const MAX_IGNORE_PATTERN_LENGTH = 256;
/**
 * Ranges in `[…]` classes over all patterns: each is tested against every character of every path walked, so
 * their sum bounds what a hostile file can make one entry cost (the rest is bit-parallel: glob.ts).
 */
export const MAX_IGNORE_CLASS_ITEMS = 512;

export type Ignore = (relPath: string, isDirectory: boolean) => boolean;

interface Rule {
  glob: Glob;
  negate: boolean;
  dirOnly: boolean;
}

/** A matcher for the patterns; `file` names where they come from, for the limit errors. */
export function ignoreMatcher(patterns: readonly string[], file = 'ignore rules'): Ignore {
  const rules: Rule[] = [];
  let items = 0;
  for (const [i, raw] of patterns.entries()) {
    let p = raw.trim();
    if (p === '' || p.startsWith('#')) continue;
    if (p.length > MAX_IGNORE_PATTERN_LENGTH) {
      throw fileError(
        'build-failed',
        'size',
        file,
        `pattern ${i + 1} is ${p.length} characters; the limit is ${MAX_IGNORE_PATTERN_LENGTH}`,
        'shorten it (a pattern names files, `*` and `**` cover the rest)',
      );
    }
    if (rules.length >= MAX_IGNORE_PATTERNS) {
      throw fileError('build-failed', 'size', file, `has more than ${MAX_IGNORE_PATTERNS} patterns`, 'ignore whole folders instead of single files');
    }
    const negate = p.startsWith('!');
    if (negate) p = p.slice(1);
    const dirOnly = p.endsWith('/');
    p = trimSlashes(p);
    p = p.startsWith('./') ? p.slice(2) : p;
    const anchored = p.startsWith('/') || p.includes('/');
    const glob = compileGlob(p);
    if (glob.length === 0) continue;
    items += classItems(glob);
    if (items > MAX_IGNORE_CLASS_ITEMS) {
      throw fileError(
        'build-failed',
        'size',
        file,
        `its patterns hold more than ${MAX_IGNORE_CLASS_ITEMS} \`[…]\` class ranges (pattern ${i + 1})`,
        'use `*` and `?`, or fewer classes',
      );
    }
    rules.push({ glob: anchored ? glob : [{ kind: 'globstar' }, ...glob], negate, dirOnly });
  }
  return (relPath, isDirectory) => {
    let ignored = false;
    const parts = pathParts(relPath);
    for (const r of rules) {
      if (r.dirOnly && !isDirectory) continue;
      if (ignored === !r.negate) continue; // cannot change the outcome
      if (matchGlobParts(r.glob, parts)) ignored = !r.negate;
    }
    return ignored;
  };
}

const IGNORE_READ = { code: 'build-failed', maxBytes: MAX_IGNORE_BYTES, sizeHint: 'ignore whole folders instead of single files' } as const;

/** The rules of the ignore file found (its name and text), or the defaults when there is none. */
function rulesOf(dir: string, found: { name: string; text: string } | undefined): { file: string | undefined; ignore: Ignore } {
  if (found === undefined) return { file: undefined, ignore: ignoreMatcher(DEFAULT_IGNORES) };
  return { file: found.name, ignore: ignoreMatcher([...DEFAULT_IGNORES, ...found.text.split(/\r?\n/)], `${dir}/${found.name}`) };
}

/** The ignore rules of a plugin folder: the defaults plus its ignore file's. A hostile ignore file is refused, never skipped. */
export async function pluginIgnore(dir: string): Promise<{ file: string | undefined; ignore: Ignore }> {
  for (const name of IGNORE_FILES) {
    try {
      return rulesOf(dir, { name, text: (await readPluginFile(dir, name, IGNORE_READ)).toString('utf8') });
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
  return rulesOf(dir, undefined);
}

/** pluginIgnore, synchronously (one bounded read of at most 64 KiB): for setting up a watch. */
export function pluginIgnoreSync(dir: string): { file: string | undefined; ignore: Ignore } {
  for (const name of IGNORE_FILES) {
    try {
      return rulesOf(dir, { name, text: readPluginFileSync(dir, name, IGNORE_READ).toString('utf8') });
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
  return rulesOf(dir, undefined);
}
