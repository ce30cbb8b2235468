/**
 * Waiting under an AbortSignal (src/host/abortable.ts): a signal aborted
 * before the wait began abandons it at once (it fires no event), and what
 * arrives late goes to `late`. A load whose manifest is answered from the
 * check cache reaches its waits with no turn of the event loop between, so
 * the signal may well be aborted already.
 */
import test from 'ava';
import { isAirlockError } from '../../src/errors.ts';
import { abortable } from '../../src/host/abortable.ts';

test('a signal aborted before the wait abandons it at once; the value that arrives later goes to late', async (t) => {
  const controller = new AbortController();
  controller.abort(new Error('gone'));
  let release!: (v: string) => void;
  const held = new Promise<string>((resolve) => (release = resolve));
  const late: string[] = [];
  const err = await t.throwsAsync(abortable(held, controller.signal, 'loading x', (v) => late.push(v)));
  t.true(isAirlockError(err, 'aborted'), String(err));
  t.is(err?.message, 'loading x was aborted');
  release('pool');
  await held;
  await new Promise((r) => setImmediate(r));
  t.deepEqual(late, ['pool']);
});

test('a signal aborted during the wait abandons it; one never aborted lets the value through', async (t) => {
  const controller = new AbortController();
  const waiting = abortable(new Promise<string>(() => {}), controller.signal, 'loading y', () => {});
  controller.abort();
  t.true(isAirlockError(await t.throwsAsync(waiting), 'aborted'));
  t.is(await abortable(Promise.resolve('v'), new AbortController().signal, 'loading z', () => {}), 'v');
});
