/** Environment cells of the attack matrix: env-dump (worker, wasmtime) and the conformance fixtures (Docker). */
import type { CellFn } from '../engines.ts';
import type { CellImpls } from '../register.ts';
import { answer } from './calls.ts';

const SECRET = 'plugin-a-s3cret';

/** Plugin A holds a granted secret; plugin B, loaded beside it on the same engine, must not see it. */
const otherPlugin: CellFn = async (t, env) => {
  const a = await env.load({ wasm: 'env-dump' }, { env: { MATRIX_A_TOKEN: SECRET } });
  const b = await env.load({ wasm: 'env-dump' });
  // A's grant works (the secret is there to be stolen) ...
  t.true((await answer(a, 'dump', {})).includes(`MATRIX_A_TOKEN=${SECRET}`));
  // ... and B, before and after A used it, sees neither the name nor the value.
  for (let i = 0; i < 2; i++) {
    const seen = await answer(b, 'dump', {});
    t.regex(seen, /^\[/);
    t.false(seen.includes(SECRET), seen);
    t.false(seen.includes('MATRIX_A_TOKEN'), seen);
    await answer(a, 'dump', {});
  }
};

export const envCells: CellImpls = {
  'env.other-plugin': { worker: otherPlugin, wasmtime: otherPlugin, 'docker-node': otherPlugin, 'docker-python': otherPlugin },
};
