import test from 'ava';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LogCapture, TRUNCATION_MARKER } from '../../../src/capabilities/stdio/capture.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

test('stdout and stderr are kept apart and share one byte budget', (t) => {
  const c = new LogCapture(10);
  c.write('stdout', bytes('hello'));
  c.write('stderr', bytes('world!!'));
  t.is(c.text('stdout'), 'hello');
  t.is(c.text('stderr'), `world${TRUNCATION_MARKER}`);
  t.true(c.truncated);
});

test('writes are copied: the guest reusing its buffer does not change the log', (t) => {
  const c = new LogCapture(100);
  const buf = bytes('abc');
  c.write('stdout', buf);
  buf.fill(0x7a);
  t.is(c.text('stdout'), 'abc');
  t.false(c.truncated);
});

test('a guest writing its logs one byte per write costs the bytes kept, not an object per write', (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const one = bytes('z');
  gc();
  const before = process.memoryUsage();
  const c = new LogCapture(1024 * 1024);
  for (let i = 0; i < 1024 * 1024; i++) c.write(i % 2 === 0 ? 'stdout' : 'stderr', one);
  gc();
  const after = process.memoryUsage();
  const held = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
  // 1 MiB kept; a copy per write would be a million typed arrays (about a hundred MB).
  t.true(held < 8 * 1024 * 1024, `${held} bytes held for 1 MiB of logs`);
  t.is(c.text('stdout').length, 512 * 1024);
  t.false(c.truncated);
});
