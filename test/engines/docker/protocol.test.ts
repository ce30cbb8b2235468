/** The container protocol's message validation (no Docker needed). */
import test from 'ava';
import { parseContainerMessage } from '../../../src/protocol.ts';

const logs = { stdout: 'o', stderr: '', truncated: false };

test('well-formed messages parse', (t) => {
  t.deepEqual(parseContainerMessage('{"type":"ready","runtime":"node","version":"v24"}'), { type: 'ready', runtime: 'node', version: 'v24' });
  t.deepEqual(parseContainerMessage(JSON.stringify({ type: 'result', id: 3, ok: true, output: '1', ...logs })), {
    type: 'result',
    id: 3,
    ok: true,
    output: '1',
    ...logs,
  });
  const err = { code: 'EACCES', message: 'no' };
  t.deepEqual(parseContainerMessage(JSON.stringify({ type: 'result', id: 3, ok: false, error: err, ...logs })), {
    type: 'result',
    id: 3,
    ok: false,
    error: err,
    ...logs,
  });
  t.deepEqual(parseContainerMessage(JSON.stringify({ type: 'fatal', error: err })), { type: 'fatal', error: err });
});

test('anything else is refused', (t) => {
  for (const line of [
    'not json',
    'null',
    '[]',
    '{"type":"ready","runtime":"ruby","version":"1"}',
    JSON.stringify({ type: 'result', id: '3', ok: true, output: '1', ...logs }),
    JSON.stringify({ type: 'result', id: 3, ok: true, output: 1, ...logs }),
    JSON.stringify({ type: 'result', id: 3, ok: true, output: '1' }),
    JSON.stringify({ type: 'result', id: 3, ok: false, error: { code: 1, message: 'x' }, ...logs }),
    JSON.stringify({ type: 'result', id: 3, ok: false, error: { code: 'x', message: 'x', origin: 'plugin' }, ...logs }),
    JSON.stringify({ type: 'other' }),
  ]) {
    t.is(parseContainerMessage(line), undefined, line);
  }
});
