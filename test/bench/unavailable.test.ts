import test from 'ava';
import { resolveTargets } from '../../src/bench/index.ts';

// This file's own process (ava runs each file in a worker of its own): wasmtime is made unavailable here.
process.env.AIRLOCK_WASMTIME = '/nonexistent/wasmtime';

test('an unavailable engine is skipped with its reason when the user did not name it', async (t) => {
  const { targets, skipped } = await resolveTargets({ targets: ['in-thread', 'wasmtime', 'wasmtime-run'], explicitTargets: false });
  t.deepEqual(
    targets.map((x) => x.name),
    ['in-thread'],
  );
  t.deepEqual(
    skipped.map((s) => s.target),
    ['wasmtime', 'wasmtime-run'],
  );
  t.regex(skipped[0]!.reason, /AIRLOCK_WASMTIME=\/nonexistent\/wasmtime is not an executable file/);
});

test('an unavailable engine named with --engines is an engine-unavailable error saying how to go on', async (t) => {
  await t.throwsAsync(resolveTargets({ targets: ['in-thread', 'wasmtime'], explicitTargets: true }), {
    message: /--engines names wasmtime, which cannot run here: .*not an executable file.*leave wasmtime out of --engines/,
    any: true,
  });
});
