/**
 * Random bytes, bounded per call: a guest may draw at most
 * RANDOM_BYTES_PER_CALL bytes per call (and per instantiation), so a guest
 * asking for 1 GiB makes the host allocate nothing; it traps instead. The
 * interface has no error case, so refusing means trapping.
 */
import { randomBytes } from 'node:crypto';
import type { Grants } from '../../grants/types.ts';
import type { CallState, WasiContext, WasiImports, WasiPart } from '../types.ts';

export const RANDOM_BYTES_PER_CALL = 1 << 20;

export class RandomBudgetError extends Error {
  constructor(asked: bigint, left: number) {
    super(`random: the guest asked for ${asked} random bytes; ${left} are left of the ${RANDOM_BYTES_PER_CALL} allowed per call`);
    this.name = 'RandomBudgetError';
  }
}

export function randomWasi(_grants: Grants, ctx: WasiContext): WasiImports {
  const draw = (len: bigint | number): Uint8Array => {
    const asked = BigInt(len);
    const left = ctx.call.randomBytesLeft;
    if (asked < 0n || asked > BigInt(left)) throw new RandomBudgetError(asked, left);
    ctx.call.randomBytesLeft = left - Number(asked);
    return randomBytes(Number(asked));
  };
  const u64 = (): bigint => {
    const b = draw(8n);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  };
  let seed: [bigint, bigint] | undefined;
  return {
    'wasi:random/random': { getRandomBytes: draw, getRandomU64: u64 },
    'wasi:random/insecure': { getInsecureRandomBytes: draw, getInsecureRandomU64: u64 },
    'wasi:random/insecure-seed': {
      insecureSeed: (): [bigint, bigint] => (seed ??= [u64(), u64()]),
    },
  };
}

/** Per call: the guest's random-byte budget starts afresh. */
function randomBeginCall(_grants: Grants, call: CallState): void {
  call.randomBytesLeft = RANDOM_BYTES_PER_CALL;
}

export const wasiPart: WasiPart = { wasi: randomWasi, beginCall: randomBeginCall };
