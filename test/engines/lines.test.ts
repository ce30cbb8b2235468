/** The attach stream's line splitter: lines across chunks are joined; a line past the bound is reported once and dropped to its end. */
import test from 'ava';
import { BoundedLines } from '../../src/engines/lines.ts';

function collect(max: number): { lines: string[]; overflows: number; push(s: string): void } {
  const out = { lines: [] as string[], overflows: 0, push: (s: string) => reader.push(Buffer.from(s)) };
  const reader = new BoundedLines(
    max,
    (l) => out.lines.push(l),
    () => {
      out.overflows += 1;
    },
  );
  return out;
}

test('lines split across chunks are joined, several lines in one chunk are each delivered', (t) => {
  const c = collect(100);
  c.push('{"a":');
  c.push('1}\n{"b":2}\n{"c"');
  c.push(':3}\n');
  t.deepEqual(c.lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
  t.is(c.overflows, 0);
});

test('a line longer than the bound is an overflow, its rest is dropped up to its newline, and the next line is read', (t) => {
  const c = collect(8);
  c.push('0123456');
  c.push('789abcdef');
  c.push('ghij\nok\n');
  t.is(c.overflows, 1);
  t.deepEqual(c.lines, ['ok']);
});

test('a complete line over the bound in one chunk is an overflow too', (t) => {
  const c = collect(4);
  c.push('toolong\nfine\n');
  t.is(c.overflows, 1);
  t.deepEqual(c.lines, ['fine']);
});
