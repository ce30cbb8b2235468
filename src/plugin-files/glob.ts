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

/** Ranges in the `[…]` classes of a glob: what a character costs to test against it (ignore.ts caps their sum). */
export function classItems(glob: Glob): number {
  let n = 0;
  for (const s of glob) if (s.kind === 'segment') for (const t of s.tokens) if (t.kind === 'class') n += t.items.length;
  return n;
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

/**
 * A segment as a bit-parallel NFA (Shift-And): bit i of a state is "at token i", bit m "matched". One character
 * costs a few operations per 32 tokens, whatever is alive: a hostile ignore file's `*a*a*a…` against a name of
 * `a`s is as cheap as any other pattern (stepping a list of live positions costs the pattern's length per character).
 */
interface Bits {
  words: number;
  /** `*` tokens. */
  star: Uint32Array;
  /** `?` tokens. */
  any: Uint32Array;
  /** Literal tokens, by code point. */
  chars: Map<number, Uint32Array>;
  /** Class tokens and their bit. */
  classes: Array<{ bit: number; token: Token }>;
}

const compiled = new WeakMap<Token[], Bits>();

function bitsOf(tokens: Token[]): Bits {
  let b = compiled.get(tokens);
  if (b !== undefined) return b;
  const words = ((tokens.length + 1 + 31) >>> 5) as number;
  b = { words, star: new Uint32Array(words), any: new Uint32Array(words), chars: new Map(), classes: [] };
  for (const [i, t] of tokens.entries()) {
    const w = i >>> 5;
    const bit = 1 << (i & 31);
    if (t.kind === 'star') b.star[w]! |= bit;
    else if (t.kind === 'any') b.any[w]! |= bit;
    else if (t.kind === 'class') b.classes.push({ bit: i, token: t });
    else {
      const cp = t.c.codePointAt(0)!;
      let mask = b.chars.get(cp);
      if (mask === undefined) b.chars.set(cp, (mask = new Uint32Array(words)));
      mask[w]! |= bit;
    }
  }
  compiled.set(tokens, b);
  return b;
}

/** Adds, for each live `*`, the position after it (a `*` may match nothing; consecutive ones were merged). */
function closeStars(d: Uint32Array, star: Uint32Array, words: number): void {
  let carry = 0;
  for (let w = 0; w < words; w++) {
    const s = d[w]! & star[w]!;
    d[w]! |= ((s << 1) | carry) >>> 0;
    carry = s >>> 31;
  }
}

/** Scratch state for matchSegment (one thread; grown to the widest segment seen). */
let scratch = new Uint32Array(0);

export function matchSegment(tokens: Token[], text: string): boolean {
  const b = bitsOf(tokens);
  const { words, star, any, chars, classes } = b;
  if (scratch.length < 3 * words) scratch = new Uint32Array(3 * words);
  let d = scratch.subarray(0, words);
  let next = scratch.subarray(words, 2 * words);
  const match = scratch.subarray(2 * words, 3 * words);
  d.fill(0);
  d[0] = 1;
  closeStars(d, star, words);
  for (let at = 0; at < text.length; at++) {
    // A surrogate pair is one character, as `?` and classes see it.
    const cp = text.codePointAt(at)!;
    if (cp > 0xffff) at++;
    const lit = chars.get(cp);
    if (lit === undefined) match.set(any);
    else for (let w = 0; w < words; w++) match[w] = any[w]! | lit[w]!;
    if (classes.length > 0) {
      const c = String.fromCodePoint(cp);
      for (let k = 0; k < classes.length; k++) {
        const { bit, token } = classes[k]!;
        if (tokenMatches(token, c)) match[bit >>> 5]! |= 1 << (bit & 31);
      }
    }
    // Stay on a live `*`; step past a live token that matches c.
    let carry = 0;
    let alive = 0;
    for (let w = 0; w < words; w++) {
      const live = d[w]!;
      const step = live & match[w]!;
      const out = (live & star[w]!) | (step << 1) | carry;
      next[w] = out;
      carry = step >>> 31;
      alive |= out;
    }
    if (alive === 0) return false;
    closeStars(next, star, words);
    const was = d;
    d = next;
    next = was;
  }
  const m = tokens.length;
  return (d[m >>> 5]! & (1 << (m & 31))) !== 0;
}

const plans = new WeakMap<Glob, { need: Uint16Array; exact: Uint8Array }>();

/** Per position: the fewest path segments that can end the glob from it, and whether it is exactly that many (no `**` left). */
function plan(glob: Glob): { need: Uint16Array; exact: Uint8Array } {
  let p = plans.get(glob);
  if (p !== undefined) return p;
  const k = glob.length;
  const need = new Uint16Array(k + 1);
  const exact = new Uint8Array(k + 1);
  exact[k] = 1;
  for (let i = k - 1; i >= 0; i--) {
    const star = glob[i]!.kind === 'globstar';
    // A `**` ending the glob is one or more segments; elsewhere zero or more.
    need[i] = star ? (i === k - 1 ? 1 : need[i + 1]!) : need[i + 1]! + 1;
    exact[i] = !star && exact[i + 1] === 1 ? 1 : 0;
  }
  p = { need, exact };
  plans.set(glob, p);
  return p;
}

/** Whether the POSIX relative `path` matches the whole glob. */
export function matchGlob(glob: Glob, path: string): boolean {
  return matchGlobParts(glob, pathParts(path));
}

/** A POSIX relative path's segments, for matchGlobParts (split once when many globs are tried on one path). */
export function pathParts(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

export function matchGlobParts(glob: Glob, parts: readonly string[]): boolean {
  const k = glob.length;
  const { need, exact } = plan(glob);
  // A `**` may match no segment, except when it ends the pattern.
  const close = (set: Uint8Array): void => {
    for (let i = 0; i < k - 1; i++) if (set[i] === 1 && glob[i]!.kind === 'globstar') set[i + 1] = 1;
  };
  let cur = new Uint8Array(k + 1);
  cur[0] = 1;
  close(cur);
  for (const [j, part] of parts.entries()) {
    const next = new Uint8Array(k + 1);
    const left = parts.length - j;
    let alive = false;
    for (let i = 0; i < k; i++) {
      if (cur[i] !== 1) continue;
      // A position that cannot end the glob with the parts left is not matched against this one (a segment is the costly step).
      if (left < need[i]! || (exact[i] === 1 && left !== need[i])) continue;
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
