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
