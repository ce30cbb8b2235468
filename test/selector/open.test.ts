import test from 'ava';
import type { EngineName, EnginePlugin } from '../../src/engines/types.ts';
import { AirlockError } from '../../src/errors.ts';
import { openSelected, type Selection } from '../../src/selector/index.ts';

const fake = (name: string): EnginePlugin => ({
  call: async () => ({ output: name, logs: { stdout: '', stderr: '' }, metrics: { engine: 'wasm', durationMs: 0, queueMs: 0 } }),
  close: async () => {},
});

const selection: Selection = {
  engine: 'wasmtime',
  component: '/p/dual.wasm',
  reason: 'configured',
  choice: 'wasmtime',
  choiceSource: 'host config',
  fallbacks: [
    { engine: 'wasm', reason: 'if wasmtime refuses' },
    { engine: 'docker', reason: 'if the component fails' },
  ],
  skipped: [],
};

test('the selected engine is used when it loads', async (t) => {
  const seen: Array<[EngineName, string | undefined]> = [];
  const o = await openSelected(selection, async (e, c) => {
    seen.push([e, c]);
    return fake(e);
  });
  t.is(o.engine, 'wasmtime');
  t.is(o.reason, 'configured');
  t.deepEqual(seen, [['wasmtime', '/p/dual.wasm']]);
});

test('engine-unavailable and build-failed fall through to the next engine, with the reasons kept', async (t) => {
  const seen: Array<[EngineName, string | undefined]> = [];
  const o = await openSelected(selection, async (e, c) => {
    seen.push([e, c]);
    if (e === 'wasmtime') throw new AirlockError('engine-unavailable', 'imports wasi:http/outgoing-handler');
    if (e === 'wasm') throw new AirlockError('build-failed', 'bad component');
    return fake(e);
  });
  t.is(o.engine, 'docker');
  t.deepEqual(seen, [
    ['wasmtime', '/p/dual.wasm'],
    ['wasm', '/p/dual.wasm'],
    ['docker', undefined],
  ]);
  t.regex(o.reason, /wasmtime failed \(engine-unavailable: imports wasi:http.*wasm failed \(build-failed/);
  t.deepEqual(
    o.failed.map((f) => f.engine),
    ['wasmtime', 'wasm'],
  );
});

test('other failures are not retried elsewhere; the last fallback failing is thrown with the history', async (t) => {
  await t.throwsAsync(
    openSelected(selection, async () => {
      throw new AirlockError('permission-denied', 'no');
    }),
    { message: 'no' },
  );
  const e = await t.throwsAsync(
    openSelected(selection, async (eng) => {
      throw new AirlockError('engine-unavailable', `${eng} missing`);
    }),
  );
  t.is((e as AirlockError).code, 'engine-unavailable');
  t.is(((e as AirlockError).details.failedEngines as unknown[]).length, 2);
});
