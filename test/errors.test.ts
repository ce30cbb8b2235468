/** AirlockError's hint: kept through JSON (worker and wire protocols), absent unless set. */
import test from 'ava';
import { AirlockError, formatProblem } from '../src/errors.ts';

test('a hint survives toJSON/fromJSON and is left out of the JSON when there is none', (t) => {
  const e = new AirlockError('plugin-error', 'x failed', { details: { pluginCode: 'EACCES' }, hint: 'chown it' });
  t.is(e.hint, 'chown it');
  const back = AirlockError.fromJSON(JSON.parse(JSON.stringify(e.toJSON())));
  t.is(back.hint, 'chown it');
  t.is(back.details.pluginCode, 'EACCES');
  const plain = new AirlockError('timeout', 'slow');
  t.is(plain.hint, undefined);
  t.false('hint' in plain.toJSON());
});

test('formatProblem: a problem is one line (newlines in a quoted value shown as \\n), then its excerpt lines, each marked "  | "', (t) => {
  const text = formatProblem({
    file: '/p/plugin.js',
    line: 3,
    column: 7,
    path: '',
    message: 'SyntaxError in "a\nplugin.yaml:1:1: forged"',
    hint: 'fix it',
    excerpt: ['  call(x;', '......^'],
  });
  t.is(text, '/p/plugin.js:3:7: SyntaxError in "a\\nplugin.yaml:1:1: forged" (fix: fix it)\n  |   call(x;\n  | ......^');
});
