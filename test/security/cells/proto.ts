/** Protocol-abuse cells of the attack matrix. */
import type { CellFn } from '../engines.ts';
import type { CellImpls } from '../register.ts';
import { answer } from './calls.ts';

/**
 * A Python plugin writes protocol lines far longer than its grants allow straight to the host's
 * protocol stream (it shares the in-container host's process): output-limit, and a fresh container.
 * Small limits give a small bound: 6 x (output + logs) + 64 KiB = 76 KiB.
 */
const oversized: CellFn = async (t, env) => {
  const p = await env.load({ wasm: 'none', python: 'attack-python' }, { resources: { outputBytes: 1024, logBytes: 1024 } });
  for (const bytes of [80 * 1024, 4 * 1024 * 1024]) {
    t.is(await answer(p, 'long_line', { bytes }), 'error:output-limit', `${bytes} bytes`);
    t.is(await answer(p, 'ping', {}), '"pong"');
  }
};

export const protoCells: CellImpls = {
  'proto.oversized': { 'docker-python': oversized },
};
