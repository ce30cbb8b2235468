/** The attach stream's line splitter: lines across chunks are joined; a line past the bound is reported once and dropped to its end. */
import test from 'ava';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

test('a line trickled in one-byte chunks costs its bytes, not an object per chunk (a plugin writing one byte at a time)', (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let lines = 0;
  const reader = new BoundedLines(
    4 * 1024 * 1024,
    () => {
      lines += 1;
    },
    () => undefined,
  );
  const byte = Buffer.from('x');
  gc();
  const before = process.memoryUsage();
  for (let i = 0; i < 1_000_000; i++) reader.push(byte);
  gc();
  const after = process.memoryUsage();
  const held = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
  // A million bytes held as they came would be a million Buffer objects (tens of MB); as bytes, about one MB.
  t.true(held < 8 * 1024 * 1024, `${held} bytes held for a 1,000,000-byte partial line`);
  reader.push(Buffer.from('\n'));
  t.is(lines, 1);
});
