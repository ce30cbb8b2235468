/**
 * Background loads (host.load(dir, { background: true })): the tools are listed
 * from the manifest before the engine opens, a call waits for its plugin's open
 * (within its signal and timeout), and a failed open leaves its tools answering
 * why while the other plugins serve. Opens are held at the provider's gate, so
 * nothing here depends on how long a build takes.
 */
import test from 'ava';
import { isAirlockError } from '../../src/errors.ts';
import { PluginHost, type PluginSummary } from '../../src/host/index.ts';
import { cPlugin, CountingProvider, fixture, heldHost, track } from './helpers.ts';

/** A C plugin that does not compile: its open (the build) fails. */
const BROKEN_C = '#include "airlock_tools.h"\nint tool(this is not C\n';

function settledOnce(): { onSettled: (p: PluginSummary) => void; settled: Promise<PluginSummary> } {
  let onSettled: (p: PluginSummary) => void = () => {};
  const settled = new Promise<PluginSummary>((resolve) => (onSettled = resolve));
  return { onSettled, settled };
}

test('a background load lists its tools from the manifest before its engine opens, and a call waits for the open', async (t) => {
  const { engines, host, release } = heldHost(t);
  const { onSettled, settled } = settledOnce();
  const summary = await host.load(fixture('echo-c'), { background: true, onSettled });
  t.is(summary.state, 'loading');
  t.is(summary.engine, undefined);
  t.deepEqual(summary.tools, ['echo-c_echo', 'echo-c_add']);
  t.deepEqual(
    host.tools().map((x) => x.name),
    ['echo-c_echo', 'echo-c_add'],
  );
  await engines.openStarted();
  t.is(host.plugins()[0]?.state, 'loading');

  const call = track(host.call('echo-c_add', { a: 2, b: 3 }));
  // Invalid input is refused from the manifest's schema, without waiting for the open.
  const invalid = await t.throwsAsync(host.call('echo-c_add', { a: 'x', b: 3 }));
  t.true(isAirlockError(invalid, 'invalid-input'));
  t.false(call.settled(), 'the call waits while the open is held');
  t.is(engines.calls.length, 0);

  release();
  const result = await call.promise;
  t.is(result.value, 5);
  const done = await settled;
  t.is(done.state, 'ready');
  t.is(done.engine, 'wasm');
  t.is(host.plugins()[0]?.state, 'ready');
});

test('a call waiting for a background open honours its signal and its timeout', async (t) => {
  const { engines, host } = heldHost(t);
  await host.load(fixture('echo-c'), { background: true });
  const controller = new AbortController();
  const aborted = track(host.call('echo-c_echo', {}, { signal: controller.signal }));
  controller.abort(new Error('the client cancelled'));
  const abortError = await t.throwsAsync(aborted.promise);
  t.true(isAirlockError(abortError, 'aborted'), String(abortError));
  t.regex(abortError?.message ?? '', /aborted while plugin echo-c was loading/);
  // The open is held until release(): a 20 ms timeout cannot be met, however busy the machine.
  const timedOut = await t.throwsAsync(host.call('echo-c_echo', {}, { timeout: 20 }));
  t.true(isAirlockError(timedOut, 'timeout'), String(timedOut));
  t.regex(timedOut?.message ?? '', /waiting for plugin echo-c to load/);
  t.is(engines.calls.length, 0);
});

test('a failed background open: its tools stay listed and answer the load error naming the plugin; the others serve', async (t) => {
  const host = new PluginHost();
  t.teardown(() => host.close());
  const broken = cPlugin({ name: 'broken', tools: [{ name: 'echo', description: 'Echoes', input: { type: 'object' } }] }, BROKEN_C);
  // The load error a foreground load throws is the one the tools answer.
  const foreground = new PluginHost();
  const direct = await t.throwsAsync(foreground.load(broken));
  await foreground.close();
  t.true(isAirlockError(direct), String(direct));

  const { onSettled, settled } = settledOnce();
  t.is((await host.load(broken, { background: true, onSettled })).state, 'loading');
  await host.load(fixture('echo-c'), { background: true });
  const call = host.call('broken_echo', {});
  const failed = await settled;
  t.is(failed.state, 'failed');
  t.true(isAirlockError(failed.error, isAirlockError(direct) ? direct.code : undefined));

  const error = await t.throwsAsync(call);
  t.true(isAirlockError(error, isAirlockError(direct) ? direct.code : undefined), String(error));
  t.regex(error?.message ?? '', /^broken_echo is unavailable: plugin broken failed to load: /);
  t.like(isAirlockError(error) ? error.details : {}, { plugin: 'broken' });
  // Still listed, saying why, so a client that listed it earlier gets the reason rather than "no such tool".
  const listed = host.tools().find((x) => x.name === 'broken_echo');
  t.regex(listed?.description ?? '', /^\[unavailable: plugin broken failed to load \(/);
  t.is(host.plugins().find((p) => p.name === 'broken')?.state, 'failed');
  t.is((await host.call('echo-c_add', { a: 1, b: 1 })).value, 2);
});

test('at most backgroundOpens opens run at once; an unloaded plugin still waiting for its turn never opens', async (t) => {
  const { engines, host, release } = heldHost(t, { backgroundOpens: 1 });
  await host.load(fixture('echo-c'), { background: true });
  const { onSettled, settled } = settledOnce();
  await host.load(fixture('state'), { background: true, onSettled });
  await engines.openStarted();
  await host.unload('state');
  t.deepEqual(
    host.tools().map((x) => x.plugin),
    ['echo-c', 'echo-c'],
  );
  release();
  const cancelled = await settled;
  t.is(cancelled.state, 'failed');
  t.true(isAirlockError(cancelled.error, 'aborted'));
  t.is((await host.call('echo-c_add', { a: 1, b: 2 })).value, 3);
  t.deepEqual(
    engines.opened.map((o) => o.plugin),
    ['echo-c'],
    'the second open never reached the engines: one at a time, and cancelled before its turn',
  );
});

test('closing the host while a background open is held waits for it and stops its pool', async (t) => {
  const engines = new CountingProvider();
  const release = engines.hold();
  const host = new PluginHost({ provider: engines });
  await host.load(fixture('echo-c'), { background: true });
  await engines.openStarted();
  const closing = track(host.close());
  release();
  await closing.promise;
  t.is(engines.opened.length, 1);
  t.is(engines.instancesClosed, 1, 'the pool opened after close began is stopped');
  t.true(engines.providerClosed);
});
