/**
 * The spawn helper's stream bound (src/spawn/head-tail.ts): what a process prints is kept as its first and
 * last bytes, in memory proportional to those bytes whatever the chunks it printed them in.
 */
import test from 'ava';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { HeadTail } from '../../src/spawn/head-tail.ts';

test('head and tail are the first and last bytes, however the stream is cut into chunks (property)', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 3000 }),
      fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1 }),
      fc.nat(600),
      fc.nat(600),
      (bytes, cuts, head, tail) => {
        const h = new HeadTail(head, tail);
        const all = Buffer.from(bytes);
        for (let at = 0, i = 0; at < all.length; i++) {
          const n = cuts[i % cuts.length] as number;
          h.push(all.subarray(at, at + n));
          at += n;
        }
        const cut = all.length > head + tail;
        const kept = cut ? Buffer.concat([all.subarray(0, head), all.subarray(all.length - tail)]) : all;
        t.deepEqual(h.captured(), { text: kept.toString('utf8'), cut });
        t.is(h.total, all.length);
      },
    ),
  );
});

test('a stream printed one byte at a time costs its kept bytes, not an object per chunk (a guest writing byte by byte)', (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const byte = Buffer.from('y');
  gc();
  const before = process.memoryUsage();
  const h = new HeadTail(256 * 1024, 1024 * 1024);
  for (let i = 0; i < 1_500_000; i++) h.push(byte);
  gc();
  const after = process.memoryUsage();
  const held = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
  // 1.25 MiB kept; an object per byte would be well over a hundred MB.
  t.true(held < 16 * 1024 * 1024, `${held} bytes held for 1.25 MiB of head and tail`);
  const { text, cut } = h.captured();
  t.true(cut);
  t.is(text.length, 256 * 1024 + 1024 * 1024);
});
