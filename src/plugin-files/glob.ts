/**
 * Glob matching without backtracking, for ignore files. A pattern is split
 * into `/`-separated segments; a segment is matched against a path segment
 * by stepping the set of pattern positions it could be at (an NFA), and the
 * segments against the path the same way. So a match costs at most
 * (pattern length × path length) steps, whatever the pattern: no pattern can
 * make it exponential, as a regular expression built from it could.
 *
 * Syntax (Docker's and gitignore's): `*` any run of characters within a
 * segment, `?` one character, `[abc]`, `[a-z]`, `[!a-z]`/`[^a-z]` a class,
 * `\x` the character x, `**` as a whole segment any number of segments
 * (one or more when it ends the pattern, so `dir/**` is what is inside dir).
 * `**` within a segment is `*`.
 */

type Token = { kind: 'char'; c: string } | { kind: 'any' } | { kind: 'star' } | { kind: 'class'; negate: boolean; items: Array<[string, string]> };
type Segment = { kind: 'globstar' } | { kind: 'segment'; tokens: Token[] };

export type Glob = readonly Segment[];

function parseClass(chars: string[], start: number): { token: Token; end: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (chars[i] === '!' || chars[i] === '^') {
    negate = true;
    i++;
  }
  const items: Array<[string, string]> = [];
  let first = true;
  while (i < chars.length && (chars[i] !== ']' || first)) {
    first = false;
    let lo = chars[i]!;
    if (lo === '\\' && i + 1 < chars.length) lo = chars[++i]!;
    let hi = lo;
    if (chars[i + 1] === '-' && i + 2 < chars.length && chars[i + 2] !== ']') {
      hi = chars[i + 2]!;
      if (hi === '\\' && i + 3 < chars.length) hi = chars[++i + 2]!;
      i += 2;
    }
    items.push([lo, hi]);
    i++;
  }
  if (i >= chars.length) return undefined; // unterminated: `[` is a plain character
  return { token: { kind: 'class', negate, items }, end: i };
}

function parseSegment(text: string): Segment {
  if (text === '**') return { kind: 'globstar' };
  const chars = Array.from(text);
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') tokens.push({ kind: 'any' });
    else if (c === '[') {
      const cls = parseClass(chars, i);
      if (cls === undefined) tokens.push({ kind: 'char', c });
      else {
        tokens.push(cls.token);
        i = cls.end;
      }
    } else if (c === '\\' && i + 1 < chars.length) tokens.push({ kind: 'char', c: chars[++i]! });
    else tokens.push({ kind: 'char', c });
  }
  return { kind: 'segment', tokens };
}

/** `pattern` relative to the folder, without a leading `/`; empty segments are dropped. */
export function compileGlob(pattern: string): Glob {
  return pattern
    .split('/')
    .filter((s) => s !== '')
    .map(parseSegment);
}

function tokenMatches(t: Token, c: string): boolean {
  if (t.kind === 'char') return t.c === c;
  if (t.kind === 'any') return true;
  if (t.kind === 'class') return t.items.some(([lo, hi]) => lo <= c && c <= hi) !== t.negate;
  return false;
}

/** Follows `*` for free (it may match nothing). Positions only move forward, so one pass suffices. */
function closeStars(tokens: Token[], set: Uint8Array): void {
  for (let i = 0; i < tokens.length; i++) if (set[i] === 1 && tokens[i]!.kind === 'star') set[i + 1] = 1;
}

export function matchSegment(tokens: Token[], text: string): boolean {
  const m = tokens.length;
  let cur = new Uint8Array(m + 1);
  cur[0] = 1;
  closeStars(tokens, cur);
  for (const c of text) {
    const next = new Uint8Array(m + 1);
    let alive = false;
    for (let i = 0; i < m; i++) {
      if (cur[i] !== 1) continue;
      const t = tokens[i]!;
      if (t.kind === 'star') next[i] = 1;
      else if (tokenMatches(t, c)) next[i + 1] = 1;
      else continue;
      alive = true;
    }
    if (!alive) return false;
    closeStars(tokens, next);
    cur = next;
  }
  return cur[m] === 1;
}

/** Whether the POSIX relative `path` matches the whole glob. */
export function matchGlob(glob: Glob, path: string): boolean {
  const k = glob.length;
  const parts = path.split('/').filter((s) => s !== '');
  // A `**` may match no segment, except when it ends the pattern.
  const close = (set: Uint8Array): void => {
    for (let i = 0; i < k - 1; i++) if (set[i] === 1 && glob[i]!.kind === 'globstar') set[i + 1] = 1;
  };
  let cur = new Uint8Array(k + 1);
  cur[0] = 1;
  close(cur);
  for (const part of parts) {
    const next = new Uint8Array(k + 1);
    let alive = false;
    for (let i = 0; i < k; i++) {
      if (cur[i] !== 1) continue;
      const s = glob[i]!;
      if (s.kind === 'globstar') {
        next[i] = 1;
        next[i + 1] = 1;
      } else if (matchSegment(s.tokens, part)) next[i + 1] = 1;
      else continue;
      alive = true;
    }
    if (!alive) return false;
    close(next);
    cur = next;
  }
  return cur[k] === 1;
}
