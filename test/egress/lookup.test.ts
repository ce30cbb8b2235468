/**
 * The egress proxy's name lookups (src/egress/lookup.ts): a plugin choosing
 * slow names under a wildcard grant holds at most MAX_LOOKUPS of libuv's
 * thread-pool slots; the rest wait, bounded, and leave at their deadline
 * without starting. Driven by a lookup the test answers by hand: no timers.
 */
import test from 'ava';
import { limitedResolver, MAX_LOOKUPS, MAX_WAITING, proxyResolver } from '../../src/egress/lookup.ts';

/** A lookup whose answers the test gives: `started` lists the names looked up, `answer(name)` ends one. */
function manualLookup(): { lookup: (host: string) => Promise<readonly string[]>; started: string[]; answer(host: string): void } {
  const started: string[] = [];
  const pending = new Map<string, (a: readonly string[]) => void>();
  return {
    started,
    lookup: (host) =>
      new Promise((resolve) => {
        started.push(host);
        pending.set(host, resolve);
      }),
    answer: (host) => pending.get(host)?.(['192.0.2.1']),
  };
}

test('at most two lookups run at once (half the thread pool); the next starts when one ends, in order', async (t) => {
  t.is(MAX_LOOKUPS, 2);
  const m = manualLookup();
  const resolve = limitedResolver(m.lookup);
  const results = ['a', 'b', 'c', 'd'].map((h) => resolve(h));
  await Promise.resolve();
  t.deepEqual(m.started, ['a', 'b'], 'two started, two wait');
  m.answer('a');
  t.deepEqual(await results[0], ['192.0.2.1']);
  t.deepEqual(m.started, ['a', 'b', 'c'], 'the slot went to the first waiter');
  m.answer('b');
  m.answer('c');
  await Promise.all([results[1], results[2]]);
  t.deepEqual(m.started, ['a', 'b', 'c', 'd']);
  m.answer('d');
  await results[3];
});

test('a waiting lookup whose deadline passes leaves the queue and never starts', async (t) => {
  const m = manualLookup();
  const resolve = limitedResolver(m.lookup, 1);
  const first = resolve('slow');
  const ac = new AbortController();
  const gone = resolve('given-up', ac.signal);
  const next = resolve('next');
  ac.abort(new Error('deadline'));
  await t.throwsAsync(gone, { message: 'deadline' });
  m.answer('slow');
  await first;
  await Promise.resolve();
  t.deepEqual(m.started, ['slow', 'next'], 'the abandoned lookup never held a slot');
  m.answer('next');
  await next;
});

test('past the waiting bound a lookup fails at once; a failing lookup frees its slot', async (t) => {
  let calls = 0;
  const stuck = new Promise<readonly string[]>(() => undefined);
  const resolve = limitedResolver(
    async (host) => {
      calls++;
      if (host === 'bad') throw new Error('ENOTFOUND');
      return host === 'stuck' ? stuck : ['192.0.2.2'];
    },
    1,
    1,
  );
  await t.throwsAsync(resolve('bad'), { message: 'ENOTFOUND' });
  t.deepEqual(await resolve('ok'), ['192.0.2.2'], 'the failed lookup gave its slot back');
  void resolve('stuck');
  const waiting = resolve('ok');
  await t.throwsAsync(resolve('third'), { message: /1 name lookups are already waiting/ });
  t.is(calls, 3, 'neither the waiting nor the refused lookup started');
  void waiting;
});

test("one plugin's lookups cannot starve another's: each proxy holds at most one of the shared slots and queues the rest on its own", async (t) => {
  const m = manualLookup();
  const shared = limitedResolver(m.lookup);
  const a = proxyResolver(shared);
  const b = proxyResolver(shared);
  // Plugin A asks for slow names without end: past the shared waiting bound.
  const fromA = Array.from({ length: MAX_WAITING + 10 }, (_, i) => a(`a${i}`).catch((e: Error) => e));
  const fromB = b('b0');
  await Promise.resolve();
  await Promise.resolve();
  t.deepEqual(m.started, ['a0', 'b0'], "B's lookup took the second slot at once");
  m.answer('b0');
  t.deepEqual(await fromB, ['192.0.2.1']);
  // A's own queue is bounded too: past it, A's lookups (not B's) fail at once.
  t.regex(String(await fromA.at(-1)), /name lookups are already waiting/);
  m.answer('a0');
  await fromA[0];
  await Promise.resolve();
  await Promise.resolve();
  t.true(m.started.includes('a1'), 'A goes on, one lookup at a time');
});
