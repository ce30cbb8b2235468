/** The linear glob matcher (src/plugin-files/glob.ts). */
import test from 'ava';
import { compileGlob, matchGlob } from '../../src/plugin-files/index.ts';

const m = (pattern: string, path: string) => matchGlob(compileGlob(pattern), path);

test('`*` and `?` match within one segment, never across `/`', (t) => {
  t.true(m('*.log', 'a.log'));
  t.true(m('*.log', '.log'));
  t.false(m('*.log', 'a/b.log'));
  t.true(m('a?c', 'abc'));
  t.false(m('a?c', 'a/c'));
  t.false(m('a?c', 'ac'));
  t.true(m('a*b*c', 'aXXbYYc'));
  t.false(m('a*b*c', 'aXXbYY'));
});

test('`**` as a segment spans any number of folders (one or more at the end)', (t) => {
  t.true(m('docs/**/*.md', 'docs/c.md'));
  t.true(m('docs/**/*.md', 'docs/a/b/c.md'));
  t.false(m('docs/**/*.md', 'other/c.md'));
  t.true(m('**/x', 'x'));
  t.true(m('**/x', 'a/b/x'));
  t.true(m('build/**', 'build/a/b'));
  t.false(m('build/**', 'build'));
  t.true(m('a**b', 'aXb'));
  t.false(m('a**b', 'a/b'));
});

test('classes: sets, ranges, negation with ! or ^, a leading ] and escapes; an unterminated [ is literal', (t) => {
  t.true(m('[abc].txt', 'b.txt'));
  t.false(m('[abc].txt', 'd.txt'));
  t.true(m('v[0-9]', 'v7'));
  t.false(m('v[0-9]', 'vx'));
  t.true(m('v[!0-9]', 'vx'));
  t.true(m('v[^0-9]', 'vx'));
  t.false(m('v[!0-9]', 'v1'));
  t.true(m('[]]', ']'));
  t.true(m('\\*', '*'));
  t.false(m('\\*', 'a'));
  t.true(m('[ab', '[ab'));
});

test('patterns that make a backtracking regex take exponential time answer at once here', (t) => {
  // `(?:.*/)?a*a*a*...b` against a long run of `a`s is the classic catastrophic case for the old regex translation.
  const pattern = `**/${'a*'.repeat(60)}b`;
  t.false(m(pattern, 'a'.repeat(250)));
  t.false(m(`${'*/'.repeat(30)}*b`, `${'a/'.repeat(31)}a`));
  t.true(m(pattern, `${'a'.repeat(249)}b`));
});

// ---- hunt (hostile data) ----
type Tok = { kind: string; c?: string; negate?: boolean; items?: Array<[string, string]> };

/** The matcher as it was before the bit-parallel one: a position set stepped token by token (slow, plainly right). */
function reference(pattern: string, path: string): boolean {
  const glob = compileGlob(pattern) as unknown as Array<{ kind: string; tokens?: Tok[] }>;
  const ok = (t: Tok, c: string): boolean =>
    t.kind === 'char' ? t.c === c : t.kind === 'any' || (t.kind === 'class' && t.items!.some(([lo, hi]) => lo <= c && c <= hi) !== t.negate);
  const segment = (tokens: Tok[], text: string): boolean => {
    const close = (set: Uint8Array): void => {
      for (let i = 0; i < tokens.length; i++) if (set[i] === 1 && tokens[i]!.kind === 'star') set[i + 1] = 1;
    };
    let cur = new Uint8Array(tokens.length + 1);
    cur[0] = 1;
    close(cur);
    for (const c of text) {
      const next = new Uint8Array(tokens.length + 1);
      for (let i = 0; i < tokens.length; i++) {
        if (cur[i] !== 1) continue;
        if (tokens[i]!.kind === 'star') next[i] = 1;
        else if (ok(tokens[i]!, c)) next[i + 1] = 1;
      }
      close(next);
      cur = next;
    }
    return cur[tokens.length] === 1;
  };
  const k = glob.length;
  const close = (set: Uint8Array): void => {
    for (let i = 0; i < k - 1; i++) if (set[i] === 1 && glob[i]!.kind === 'globstar') set[i + 1] = 1;
  };
  let cur = new Uint8Array(k + 1);
  cur[0] = 1;
  close(cur);
  for (const part of path.split('/').filter((x) => x !== '')) {
    const next = new Uint8Array(k + 1);
    for (let i = 0; i < k; i++) {
      if (cur[i] !== 1) continue;
      if (glob[i]!.kind === 'globstar') next[i] = next[i + 1] = 1;
      else if (segment(glob[i]!.tokens!, part)) next[i + 1] = 1;
    }
    close(next);
    cur = next;
  }
  return cur[k] === 1;
}

test('the bit-parallel matcher answers as the plain position-set matcher does, on random patterns (past 32 tokens) and paths', (t) => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
  for (let i = 0; i < 3000; i++) {
    const segs = Array.from({ length: 1 + rand(3) }, () =>
      rand(5) === 0 ? '**' : Array.from({ length: 1 + rand(70) }, () => pick(['a', 'b', 'a', 'b', '*', '?', '[ab]', '[!a]', '[a-b]', '\u{1F600}'])).join(''),
    );
    const pattern = segs.join('/');
    const path = Array.from({ length: 1 + rand(4) }, () => Array.from({ length: 1 + rand(70) }, () => pick(['a', 'b', 'c', '\u{1F600}'])).join('')).join('/');
    t.is(m(pattern, path), reference(pattern, path), `${pattern} on ${path}`);
  }
});
