/** AirlockError's hint: kept through JSON (worker and wire protocols), absent unless set. */
import test from 'ava';
import { AirlockError } from '../src/errors.ts';

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
