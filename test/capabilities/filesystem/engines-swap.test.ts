/**
 * Finding #1 through the worker and wasmtime engines, with the fs-escape
 * fixture: a grant swapped for a symlink after load. The worker engine opens
 * the root again for every new instance and must refuse (permission-denied);
 * an instance made before the swap keeps the granted folder itself;
 * wasmtime runs one process per call on a pinned fd and must keep serving the
 * granted folder, never the link's target. The wasmtime case skips loudly
 * without wasmtime (fails in CI: AIRLOCK_REQUIRE_WASMTIME=1).
 */
import test from 'ava';
import { WasmEngine } from '../../../src/engines/wasm/index.ts';
import { probeWasmtime, WasmtimeEngine } from '../../../src/engines/wasmtime/index.ts';
import { isAirlockError } from '../../../src/errors.ts';
import { requireExternal } from '../../helpers/require.ts';
import { fixtureComponent, fixtureGrants } from '../../engines/wasm/helpers.ts';
import { swapScene } from './swap-scene.ts';

const probe = await probeWasmtime();
const withWasmtime = requireExternal('wasmtime', probe.available, probe.reason ?? 'not found') ? test : test.skip;
const wasm = new WasmEngine();
const wasmtime = new WasmtimeEngine({ probe });
test.after.always(() => Promise.all([wasm.close(), wasmtime.close()]));

const settle = (p: Promise<{ output: string }>): Promise<unknown> =>
  p.then(
    (r) => r.output,
    (e: unknown) => e,
  );

test('worker engine, per-call instances: an instance made after the swap fails with permission-denied', async (t) => {
  const s = swapScene();
  const plugin = await wasm.load(fixtureGrants('fs-escape', { filesystem: [s.grant], isolation: 'per-call' }), {
    kind: 'component',
    path: await fixtureComponent('fs-escape'),
  });
  t.teardown(() => plugin.close());
  t.is(await settle(plugin.call('read', '{"path":"/data/f"}')), '"ok:granted"');
  s.swap();
  // Instances made ahead of the swap (a standby per worker) hold the granted folder itself and
  // may serve the next calls; none may ever show the target, and once they are used up every
  // new instance fails with permission-denied.
  const ahead = fixtureGrants('fs-escape', { filesystem: [s.grant], isolation: 'per-call' }).resources.concurrency + 1;
  let err: unknown;
  for (let i = 0; i <= ahead; i++) {
    err = await settle(plugin.call('read', '{"path":"/data/f"}'));
    if (err !== '"ok:granted"') break;
  }
  t.true(isAirlockError(err), String(err));
  if (isAirlockError(err)) {
    t.is(err.code, 'permission-denied', err.message);
    t.true(err.message.includes(s.secret), err.message);
  }
});

withWasmtime('wasmtime engine: every call after the swap still sees the granted folder, never the target', async (t) => {
  const s = swapScene();
  // The policy owner accepts unbounded writes here (wasmtime's --dir has no quota): this test is about the swap.
  const grants = fixtureGrants('fs-escape', { filesystem: [s.grant], unboundedWrites: ['wasmtime'] });
  const plugin = await wasmtime.load(grants, { kind: 'component', path: await fixtureComponent('fs-escape') });
  t.teardown(() => plugin.close());
  t.is(await settle(plugin.call('read', '{"path":"/data/f"}')), '"ok:granted"');
  s.swap();
  t.is(await settle(plugin.call('read', '{"path":"/data/f"}')), '"ok:granted"');
  // Loading again from the same (now stale) grants refuses.
  const again = await wasmtime.load(grants, { kind: 'component', path: await fixtureComponent('fs-escape') }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.true(isAirlockError(again) && again.code === 'permission-denied', String(again));
});
