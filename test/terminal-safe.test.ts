import test from 'ava';
import { terminalSafe } from '../src/terminal-safe.ts';

test('text for a terminal shows control characters as \\uXXXX, keeping newlines and tabs', (t) => {
  // Cursor up + erase line, an OSC 52 clipboard write, a C1 CSI, a carriage return.
  const hostile = 'ok\n\x1b[1A\x1b[2K\x1b]52;c;ZXZpbA==\x07\t\x9b31m\rdone';
  t.is(terminalSafe(hostile), 'ok\n\\u001b[1A\\u001b[2K\\u001b]52;c;ZXZpbA==\\u0007\t\\u009b31m\\u000ddone');
  t.is(terminalSafe('plain text, ünïcode ✓, emoji 🙂\n'), 'plain text, ünïcode ✓, emoji 🙂\n');
});

test('text for a terminal shows bidi and invisible format characters as \\uXXXX', (t) => {
  t.is(terminalSafe('invoice\u202Etxt.exe'), 'invoice\\u202etxt.exe');
  t.is(terminalSafe('a\u200Bb\u2066c\u2069d\u061Ce\uFEFFf\u00ADg\u2028h\x7F'), 'a\\u200bb\\u2066c\\u2069d\\u061ce\\ufefff\\u00adg\\u2028h\\u007f');
  // Tag characters (U+E0041 'A' ...) spell instructions no one sees: each surrogate is shown.
  t.is(terminalSafe('x\u{E0041}\u{E0042}y'), 'x\\udb40\\udc41\\udb40\\udc42y');
});

test('a single-line field also shows newline, tab and carriage return', (t) => {
  t.is(terminalSafe('name\nforged line\tx\r', false), 'name\\u000aforged line\\u0009x\\u000d');
});

test('terminal-safe JSON text still parses to the same values', (t) => {
  const values = ['\x1b]52;c;ZXZpbA==\x07', '\x9b2J\u202E\u2066', 'tab\tnl\n', 'x\u{E0041}', { 'k\u202E': ['\x00\x7f\x85'] }];
  for (const v of values) {
    for (const text of [JSON.stringify(v), JSON.stringify(v, null, 2)]) {
      const safe = terminalSafe(text);
      t.notRegex(safe, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      t.deepEqual(JSON.parse(safe), v);
    }
  }
});
