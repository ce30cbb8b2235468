/** Resource-exhaustion cells of the attack matrix. */
import { DOCKER_PIDS_LIMIT } from '../../../src/capabilities/limits/docker.ts';
import type { CellFn } from '../engines.ts';
import type { CellImpls } from '../register.ts';
import { baseColumn } from '../matrix.ts';
import { answer } from './calls.ts';

/** Fork bomb in a Node container: children are refused at the pids limit (EAGAIN), and the plugin still answers. */
const forkNode: CellFn = async (t, env) => {
  const p = await env.load({ wasm: 'none', node: 'attack-node' });
  const r = JSON.parse(await answer(p, 'spawn_all', {})) as { spawned: number; error: string | null };
  t.is(r.error, 'EAGAIN', JSON.stringify(r));
  t.true(r.spawned > 0 && r.spawned < DOCKER_PIDS_LIMIT, `${r.spawned} children started, under the pids limit ${DOCKER_PIDS_LIMIT}`);
  t.is(await answer(p, 'ping', {}), '"pong"');
};

const HUGE = JSON.stringify('x'.repeat(100 << 20));
const HUGE_CODE = {
  worker: 'invalid-input',
  wasmtime: 'invalid-input',
  'docker-node': 'memory-limit',
  'docker-python': 'memory-limit',
  'kubernetes-node': 'memory-limit',
  'kubernetes-python': 'memory-limit',
} as const;

/** 100 MiB of input to one call: refused or stopped at a limit, and the next call is served. */
const hugeInput: CellFn = async (t, env) => {
  const p = await env.load({ wasm: 'echo-c' });
  t.is(await answer(p, 'echo', JSON.parse(HUGE) as string), `error:${HUGE_CODE[baseColumn(env.column)]}`);
  t.is(await answer(p, 'echo', 'after'), '"after"');
};

export const resCells: CellImpls = {
  'res.fork': { 'docker-node': forkNode },
  'res.input': { worker: hugeInput, wasmtime: hugeInput, 'docker-node': hugeInput, 'docker-python': hugeInput },
};
