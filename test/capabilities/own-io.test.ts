/**
 * Airlock's own wasi:io, wasi:clocks and wasi:cli baseline
 * (src/capabilities/own-io.ts), used instead of preview2-shim's for a
 * component without wasi:http or wasi:sockets: pollables ready at once or at
 * a monotonic deadline, a poll that waits for the earliest, closed bare
 * streams, and none of the host's stdio, exit or environment. Waits are
 * bounded from below only (a busy machine may wake later, never earlier).
 */
import test from 'ava';
import { hrtime } from 'node:process';
import { ownIo, type Pollable, poll } from '../../src/capabilities/own-io.ts';
import { baselineWasi } from '../../src/capabilities/baseline.ts';

const clock = ownIo['wasi:clocks/monotonic-clock'] as { now(): bigint; subscribeDuration(d: bigint): Pollable; subscribeInstant(i: bigint): Pollable };
const MS = 1_000_000n;

test('a zero-length subscription and a past instant are ready at once; a future one is not', (t) => {
  t.true(clock.subscribeDuration(0n).ready());
  t.true(clock.subscribeInstant(clock.now() - MS).ready());
  t.false(clock.subscribeDuration(3600_000n * MS).ready());
});

test('block() returns only once the monotonic clock has reached the deadline', (t) => {
  const p = clock.subscribeDuration(20n * MS);
  const deadline = p.deadline;
  p.block();
  t.true(hrtime.bigint() >= deadline);
  t.true(p.ready());
});

test('poll returns the ready pollables at once, without waiting for the others', (t) => {
  const far = clock.subscribeDuration(3600_000n * MS);
  const now = clock.subscribeDuration(0n);
  t.deepEqual([...poll([far, now, far, now])], [1, 3]);
});

test('poll with none ready waits for the earliest deadline and returns just the ones ready then', (t) => {
  const far = clock.subscribeDuration(3600_000n * MS);
  const soon = clock.subscribeDuration(15n * MS);
  const ready = poll([far, soon]);
  t.true(hrtime.bigint() >= soon.deadline);
  t.deepEqual([...ready], [1]);
});

test('poll on an empty list traps (nothing could become ready)', (t) => {
  t.throws(() => poll([]), { message: /empty list/ });
});

test('the bare wasi:io streams are closed; a wasi:io error carries its message', (t) => {
  const { InputStream, OutputStream } = ownIo['wasi:io/streams'] as Record<string, new () => Record<string, () => unknown>>;
  t.deepEqual(
    catchOf(() => new InputStream!().read!()),
    { tag: 'closed' },
  );
  t.deepEqual(
    catchOf(() => new InputStream!().blockingRead!()),
    { tag: 'closed' },
  );
  t.deepEqual(
    catchOf(() => new OutputStream!().write!()),
    { tag: 'closed' },
  );
  t.true((new OutputStream!().subscribe!() as Pollable).ready());
  const IoError = (ownIo['wasi:io/error'] as { Error: new (p: unknown) => { toDebugString(): string } }).Error;
  t.is(new IoError({ code: 'EIO', message: 'disk said no' }).toDebugString(), 'disk said no');
});

test('the wall clock agrees with Date.now() to the second', (t) => {
  const before = Math.floor(Date.now() / 1000);
  const { seconds, nanoseconds } = (ownIo['wasi:clocks/wall-clock'] as { now(): { seconds: bigint; nanoseconds: number } }).now();
  const after = Math.floor(Date.now() / 1000);
  t.true(Number(seconds) >= before && Number(seconds) <= after);
  t.true(nanoseconds >= 0 && nanoseconds < 1e9);
});

test("none of the host's stdio, exit or environment: those are the capabilities' (stdio, env)", (t) => {
  for (const iface of ['wasi:cli/stdout', 'wasi:cli/stderr', 'wasi:cli/stdin', 'wasi:cli/exit']) t.false(iface in ownIo, iface);
  const env = ownIo['wasi:cli/environment'] as { getEnvironment(): unknown[]; getArguments(): unknown[] };
  t.deepEqual(env.getEnvironment(), []);
  t.deepEqual(env.getArguments(), []);
});

test('the baseline is the own one without wasi:http or wasi:sockets, and the shim with either', async (t) => {
  const own = await baselineWasi(['wasi:cli/stdout', 'wasi:io/streams', 'wasi:clocks/monotonic-clock']);
  t.is(own['wasi:io/poll'], ownIo['wasi:io/poll']);
  t.is(own['wasi:clocks/monotonic-clock'], ownIo['wasi:clocks/monotonic-clock']);
  const shim = await baselineWasi(['wasi:http/types', 'wasi:io/streams']);
  t.not(shim['wasi:io/poll'], ownIo['wasi:io/poll']);
  t.truthy(shim['wasi:http/types']);
});

function catchOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
