import { LogCapture } from '../../../src/capabilities/index.ts';
import test from 'ava';
import { baselineWasi } from '../../../src/capabilities/index.ts';
import { RANDOM_BYTES_PER_CALL, RandomBudgetError, randomWasi } from '../../../src/capabilities/random/wasi.ts';
import type { CallState } from '../../../src/capabilities/types.ts';
import { makeGrants } from '../../helpers/grants.ts';

/** The WASI baseline (every family), as a worker builds it. */
const BASE = await baselineWasi();

function setup() {
  const call: CallState = { logs: new LogCapture(0), randomBytesLeft: RANDOM_BYTES_PER_CALL };
  const imports = randomWasi(makeGrants(), { pluginName: 'p', call, base: BASE, shared: {} });
  const get = imports['wasi:random/random']!.getRandomBytes as (n: bigint) => Uint8Array;
  const insecure = imports['wasi:random/insecure']!.getInsecureRandomBytes as (n: bigint) => Uint8Array;
  return { call, get, insecure, u64: imports['wasi:random/random']!.getRandomU64 as () => bigint };
}

test('asking for 1 GiB of random bytes is refused without allocating it', (t) => {
  const { get, insecure } = setup();
  const before = process.memoryUsage().arrayBuffers;
  t.throws(() => get(1n << 30n), { instanceOf: RandomBudgetError });
  t.throws(() => insecure(1n << 30n), { instanceOf: RandomBudgetError });
  t.true(process.memoryUsage().arrayBuffers - before < 64 << 20);
});

test('the per-call budget is shared by every random interface and reset by the engine', (t) => {
  const { call, get, insecure, u64 } = setup();
  t.is(get(BigInt(RANDOM_BYTES_PER_CALL / 2)).length, RANDOM_BYTES_PER_CALL / 2);
  t.is(typeof u64(), 'bigint');
  t.throws(() => insecure(BigInt(RANDOM_BYTES_PER_CALL / 2)), { instanceOf: RandomBudgetError });
  call.randomBytesLeft = RANDOM_BYTES_PER_CALL;
  t.is(insecure(16n).length, 16);
});
