/**
 * A wasm worker's JS heap is kept small (src/engines/wasm/standby.ts: a
 * 4 MiB young generation, issue 21), and that never limits what a plugin can
 * take or return: its data lives in its linear memory (resources.memory),
 * and big strings in V8's large-object space, not in the young generation.
 */
import test from 'ava';
import { WasmEngine } from '../../../src/engines/wasm/index.ts';
import { startBlank, WORKER_YOUNG_MB } from '../../../src/engines/wasm/standby.ts';
import { fixtureComponent, fixtureGrants } from './helpers.ts';

const engine = new WasmEngine();
test.after.always(() => engine.close());

test('a wasm worker runs with the small young generation (V8 reads the limit back), not the 192 MiB default', async (t) => {
  const { worker, ready } = startBlank();
  t.teardown(() => worker.terminate());
  await ready;
  t.true(WORKER_YOUNG_MB <= 4);
  t.is(worker.resourceLimits?.maxYoungGenerationSizeMb, WORKER_YOUNG_MB);
});

test('a worker with the small young generation echoes a 24 MiB input whole, twice', async (t) => {
  const big = 24 << 20;
  const grants = fixtureGrants('bench-c', { resources: { outputBytes: 32 << 20, memoryBytes: 256 << 20 } });
  const p = await engine.load(grants, { kind: 'component', path: await fixtureComponent('bench-c') });
  t.teardown(() => p.close());
  const input = JSON.stringify({ message: 'x'.repeat(big), n: 1 });
  for (let i = 0; i < 2; i++) {
    const r = await p.call('echo', input);
    t.is(r.output.length, input.length);
    t.is(r.output, input);
  }
});
