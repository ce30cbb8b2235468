import test from 'ava';
import { isAirlockError } from '../../src/errors.ts';
import { FairShare } from '../../src/host/fair-share.ts';
import { track } from './helpers.ts';

test('calls past the share wait in line and enter as others leave, in order', async (t) => {
  const share = new FairShare(() => 2);
  await share.enter(undefined, 'a');
  await share.enter(undefined, 'b');
  const c = track(share.enter(undefined, 'c'));
  const d = track(share.enter(undefined, 'd'));
  t.is(share.inFlight, 2);
  t.is(share.waiting, 2);
  share.leave();
  await c.promise;
  t.false(d.settled());
  share.leave();
  await d.promise;
  t.is(share.inFlight, 2);
  t.is(share.waiting, 0);
});

test('the share is read again on every exit: a bigger share lets more in', async (t) => {
  let limit = 1;
  const share = new FairShare(() => limit);
  await share.enter(undefined, 'a');
  const waiting = [track(share.enter(undefined, 'b')), track(share.enter(undefined, 'c')), track(share.enter(undefined, 'd'))];
  limit = 3;
  share.leave();
  await Promise.all([waiting[0]?.promise, waiting[1]?.promise, waiting[2]?.promise]);
  t.is(share.inFlight, 3);
});

test('an abort takes a waiting call out of line with aborted', async (t) => {
  const share = new FairShare(() => 1);
  await share.enter(undefined, 'a');
  const controller = new AbortController();
  const b = share.enter(controller.signal, 'call to x_y');
  const c = track(share.enter(undefined, 'c'));
  controller.abort();
  const error = await t.throwsAsync(b);
  t.true(isAirlockError(error, 'aborted'));
  t.regex(error?.message ?? '', /call to x_y was aborted while waiting/);
  t.is(share.waiting, 1);
  share.leave();
  await c.promise;
  t.is(share.inFlight, 1);
});
