import test from 'ava';
import { terminalSafe } from '../../src/cli/io.ts';

test('text for a terminal shows control characters as \\xNN, keeping newlines and tabs', (t) => {
  // Cursor up + erase line, an OSC 52 clipboard write, a C1 CSI, a carriage return.
  const hostile = 'ok\n\x1b[1A\x1b[2K\x1b]52;c;ZXZpbA==\x07\t\x9b31m\rdone';
  t.is(terminalSafe(hostile), 'ok\n\\x1b[1A\\x1b[2K\\x1b]52;c;ZXZpbA==\\x07\t\\x9b31m\\x0ddone');
  t.is(terminalSafe('plain text, ünïcode ✓\n'), 'plain text, ünïcode ✓\n');
});
