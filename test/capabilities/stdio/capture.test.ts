import test from 'ava';
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
