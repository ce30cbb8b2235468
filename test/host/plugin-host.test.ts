import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { stringify } from 'yaml';
import { isAirlockError, type ErrorCode } from '../../src/errors.ts';
import { PluginHost } from '../../src/host/index.ts';
import { probeWasmtimeEngine } from '../../src/engines/probe.ts';
import { requireExternal } from '../helpers/require.ts';
import { cPlugin, CountingProvider, ECHO_SPIN_C, fixture, fixtureCopy, track } from './helpers.ts';

const TOOL_NAME_RULE = /^[a-zA-Z0-9_-]{1,64}$/;
// Probed before any test is declared (ava wants every test declared in the first turn).
const wasmtime = await probeWasmtimeEngine();

async function rejectsWith(t: import('ava').ExecutionContext, promise: Promise<unknown>, code: ErrorCode): Promise<Error | undefined> {
  const error = await t.throwsAsync(promise);
  t.true(isAirlockError(error, code), `expected ${code}, got ${isAirlockError(error) ? `${error.code}: ${error.message}` : String(error)}`);
  return error;
}

test('tools() lists every tool with its schema; the OpenAI and Anthropic lists match it', async (t) => {
  const host = new PluginHost();
  t.teardown(() => host.close());
  const summary = await host.load(fixture('echo-c'));
  t.is(summary.engine, 'wasm');
  t.deepEqual(summary.tools, ['echo-c_echo', 'echo-c_add']);
  const tools = host.tools();
  t.deepEqual(
    tools.map((x) => [x.name, x.plugin, x.tool]),
    [
      ['echo-c_echo', 'echo-c', 'echo'],
      ['echo-c_add', 'echo-c', 'add'],
    ],
  );
  t.deepEqual(tools[1]?.inputSchema, { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] });
  t.deepEqual(tools[0]?.annotations, { readOnlyHint: true, openWorldHint: false });
  t.deepEqual(
    host.openAITools().map((x) => x.function.name),
    tools.map((x) => x.name),
  );
  t.deepEqual(
    host.anthropicTools().map((x) => [x.name, x.input_schema]),
    tools.map((x) => [x.name, x.inputSchema]),
  );
  for (const name of tools.map((x) => x.name)) t.regex(name, TOOL_NAME_RULE);
});

test('call() returns the value, the JSON text, the plugin logs and metrics', async (t) => {
  const host = new PluginHost();
  t.teardown(() => host.close());
  await host.load(fixture('echo-c'));
  await host.load(fixture('state'));
  const sum = await host.call('echo-c_add', { a: 2, b: 40 });
  t.is(sum.value, 42);
  t.is(sum.output, '42');
  t.deepEqual(sum.logs, { stdout: '', stderr: '' });
  t.is(sum.metrics.engine, 'wasm');
  for (const k of ['durationMs', 'queueMs', 'agentQueueMs', 'totalMs'] as const) t.true(Number.isFinite(sum.metrics[k]) && sum.metrics[k] >= 0, k);
  t.true(sum.metrics.totalMs >= sum.metrics.durationMs);

  const printed = await host.call('state_print', { note: 'to the logs' });
  t.is(printed.value, 'printed');
  t.is(printed.logs.stdout, '{"note":"to the logs"}\n');
  t.is(printed.logs.stderr, 'err:{"note":"to the logs"}\n');
});

test('a tool error of the plugin is plugin-error with its own code', async (t) => {
  const host = new PluginHost();
  t.teardown(() => host.close());
  await host.load(fixture('state'));
  const error = await rejectsWith(t, host.call('state_fail', { why: 'because' }), 'plugin-error');
  t.like(isAirlockError(error) ? error.details : {}, { pluginCode: 'bad-thing', pluginMessage: '{"why":"because"}' });
});

test('invalid input is refused before anything reaches an engine (counted at the engine)', async (t) => {
  const engines = new CountingProvider();
  const host = new PluginHost({ provider: engines });
  t.teardown(() => host.close());
  await host.load(fixture('echo-c'));

  const missing = await rejectsWith(t, host.call('echo-c_add', { a: 1 }), 'invalid-input');
  t.regex(missing?.message ?? '', /echo-c_add.*required property 'b'/);
  await rejectsWith(t, host.call('echo-c_add', { a: 'one', b: 2 }), 'invalid-input');
  await rejectsWith(t, host.call('echo-c_echo', 'not an object'), 'invalid-input');
  await rejectsWith(t, host.call('echo-c_echo', undefined), 'invalid-input');
  await rejectsWith(t, host.call('echo-c_ad', { a: 1, b: 2 }), 'not-found');
  t.is(engines.calls.length, 0);

  t.is((await host.call('echo-c_add', { a: 1, b: 2 })).value, 3);
  t.deepEqual(engines.calls, [{ plugin: 'echo-c', tool: 'add', input: '{"a":1,"b":2}' }]);
});

test('an unknown tool suggests the closest name', async (t) => {
  const host = new PluginHost();
  t.teardown(() => host.close());
  await host.load(fixture('echo-c'));
  const error = await rejectsWith(t, host.call('echo-c_ad', {}), 'not-found');
  t.regex(error?.message ?? '', /did you mean "echo-c_add"/);
});

test('a result that breaks the output schema is invalid-output', async (t) => {
  const dir = fixtureCopy('echo-c', 'echo.c', {
    name: 'shaped',
    tools: [
      { name: 'echo', description: 'Echo', input: { type: 'object' }, output: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } },
    ],
  });
  const host = new PluginHost();
  t.teardown(() => host.close());
  await host.load(dir);
  t.deepEqual((await host.call('shaped_echo', { ok: true })).value, { ok: true });
  const error = await rejectsWith(t, host.call('shaped_echo', { ok: 'yes' }), 'invalid-output');
  t.regex(error?.message ?? '', /output\.ok must be boolean/);
});

test('limits come back as typed errors: timeout, trap, memory-limit, output-limit', async (t) => {
  const host = new PluginHost();
  t.teardown(() => host.close());
  for (const name of ['loop', 'trap', 'membomb', 'bigout']) await host.load(fixture(name));
  const [timeout] = await Promise.all([
    rejectsWith(t, host.call('loop_spin', {}, { timeout: 300 }), 'timeout'),
    rejectsWith(t, host.call('trap_boom', {}), 'trap'),
    rejectsWith(t, host.call('membomb_grow', {}), 'memory-limit'),
    rejectsWith(t, host.call('bigout_result', { bytes: 2 * 1024 * 1024 }), 'output-limit'),
  ]);
  t.regex(timeout?.message ?? '', /300 ms/);
  // The pools replaced what they killed: each plugin still answers.
  const logs = await host.call('bigout_stdout', { bytes: 200_000 });
  t.is(logs.value, 'written');
  t.true(logs.logs.truncated);
  t.true(logs.logs.stdout.length < 100_000, `${logs.logs.stdout.length} characters of logs kept`);
});

test('the call timeout can only shorten the granted one', async (t) => {
  const dir = fixtureCopy('loop', 'loop.c', {
    name: 'short-loop',
    tools: [{ name: 'spin', description: 'Spins', input: { type: 'object' } }],
    resources: { timeout: '200ms' },
  });
  const host = new PluginHost();
  t.teardown(() => host.close());
  await host.load(dir);
  const error = await rejectsWith(t, host.call('short-loop_spin', {}, { timeout: 60_000 }), 'timeout');
  t.regex(error?.message ?? '', /200 ms/);
  for (const timeout of [0, -5, Number.NaN]) await rejectsWith(t, host.call('short-loop_spin', {}, { timeout }), 'invalid-input');
});

test('an AbortSignal stops a running call, a waiting call, and refuses an aborted one before the engine', async (t) => {
  const engines = new CountingProvider();
  const host = new PluginHost({ provider: engines, agentConcurrency: 1 });
  t.teardown(() => host.close());
  await host.load(fixture('loop'));

  const before = new AbortController();
  before.abort();
  await rejectsWith(t, host.call('loop_spin', {}, { signal: before.signal }), 'aborted');
  t.is(engines.calls.length, 0);

  const controller = new AbortController();
  const running = host.call('loop_spin', {}, { signal: controller.signal });
  const waiting = host.call('loop_spin', {}, { signal: controller.signal });
  await engines.reached(1);
  controller.abort(new Error('the user gave up'));
  const [, queued] = await Promise.all([rejectsWith(t, running, 'aborted'), rejectsWith(t, waiting, 'aborted')]);
  t.regex(queued?.message ?? '', /loop_spin was aborted: the user gave up/);
  // The waiting call left the queue without reaching the engine.
  t.is(engines.calls.length, 1);
});

test('writes into a granted folder inside the plugin are data, not a change: reload() keeps the pool', async (t) => {
  const source = `#include "airlock_tools.h"
int tool(const char *name, size_t name_len, char *input, size_t input_len, struct airlock_out *out) {
  (void)name; (void)name_len; (void)input; (void)input_len;
  out->ok = airlock_lit("1");
  return 0;
}
`;
  const dir = cPlugin(
    {
      name: 'keeper',
      tools: [{ name: 'v', description: 'V', input: { type: 'object' } }],
      permissions: { filesystem: [{ path: './data', mount: '/data', access: 'read-write' }] },
    },
    source,
  );
  mkdirSync(join(dir, 'data'));
  const engines = new CountingProvider();
  const host = new PluginHost({ provider: engines, policy: { filesystem: [{ path: dir, access: 'read-write' }] } });
  t.teardown(() => host.close());
  await host.load(dir);
  writeFileSync(join(dir, 'data', 'state.json'), '{"n":1}');
  t.false(await host.reload('keeper'));
  t.is(engines.opened.length, 1);
  writeFileSync(join(dir, 'notes.txt'), 'outside the grant: part of the plugin');
  t.true(await host.reload('keeper'));
});

test('reload() swaps in a fresh pool only when the folder changed', async (t) => {
  const version = (n: number) => `#include "airlock_tools.h"
int tool(const char *name, size_t name_len, char *input, size_t input_len, struct airlock_out *out) {
  (void)name; (void)name_len; (void)input; (void)input_len;
  out->ok = airlock_lit("${n}");
  return 0;
}
`;
  const tools = [{ name: 'version', description: 'Which build answers', input: { type: 'object' } }];
  const dir = cPlugin({ name: 'versioned', tools }, version(1));
  const engines = new CountingProvider();
  const host = new PluginHost({ provider: engines });
  t.teardown(() => host.close());
  await host.load(dir);
  t.is((await host.call('versioned_version', {})).value, 1);
  t.false(await host.reload('versioned'));
  t.is(engines.opened.length, 1);

  writeFileSync(join(dir, 'plugin.c'), version(2));
  t.true(await host.reload('versioned'));
  t.is((await host.call('versioned_version', {})).value, 2);
  t.is(engines.instancesClosed, 1, 'the old pool was closed');

  // A manifest change (a new tool) shows in tools() after the reload.
  writeFileSync(
    join(dir, 'plugin.yaml'),
    stringify({
      apiVersion: 'airlock/v1',
      version: '0.2.0',
      name: 'versioned',
      runtime: 'wasm',
      entry: 'plugin.c',
      tools: [...tools, { name: 'again', description: 'Same', input: { type: 'object' } }],
    }),
  );
  t.deepEqual(await host.reloadAll(), ['versioned']);
  t.deepEqual(
    host.tools().map((x) => x.name),
    ['versioned_version', 'versioned_again'],
  );
  t.is(host.plugins()[0]?.version, '0.2.0');
  t.is((await host.call('versioned_again', {})).value, 2);
  t.deepEqual(await host.reloadAll(), []);
});

test('a reload that breaks the manifest keeps the loaded plugin serving', async (t) => {
  const dir = cPlugin({ name: 'sturdy', tools: [{ name: 'echo', description: 'Echo', input: { type: 'object' } }] }, ECHO_SPIN_C);
  const host = new PluginHost();
  t.teardown(() => host.close());
  await host.load(dir);
  writeFileSync(join(dir, 'plugin.yaml'), readFileSync(join(dir, 'plugin.yaml'), 'utf8').replace('apiVersion: airlock/v1', 'apiVersion: airlock/v9'));
  await rejectsWith(t, host.reload('sturdy'), 'invalid-manifest');
  t.deepEqual((await host.call('sturdy_echo', { still: 'here' })).value, { still: 'here' });
});

test('close() drains in-flight calls, then stops the engines; later calls are refused', async (t) => {
  const engines = new CountingProvider();
  const host = new PluginHost({ provider: engines });
  await host.load(fixture('loop'));
  await host.load(fixture('echo-c'));
  const slow = track(host.call('loop_spin', {}, { timeout: 500 }));
  const quick = track(host.call('echo-c_echo', { x: 1 }));
  await engines.reached(2);
  await host.close();
  t.true(slow.settled() && quick.settled(), 'both calls settled before close() returned');
  await rejectsWith(t, slow.promise, 'timeout');
  t.deepEqual((await quick.promise).value, { x: 1 });
  t.is(engines.instancesClosed, 2);
  t.true(engines.providerClosed);
  await rejectsWith(t, host.call('echo-c_echo', {}), 'aborted');
  await t.notThrowsAsync(host.close());
});

test('loading the same plugin twice is a conflict; unload frees the name', async (t) => {
  const host = new PluginHost();
  t.teardown(() => host.close());
  await host.load(fixture('echo-c'));
  await rejectsWith(t, host.load(fixture('echo-c')), 'conflict');
  await host.unload('echo-c');
  t.deepEqual(host.tools(), []);
  await rejectsWith(t, host.call('echo-c_echo', {}), 'not-found');
  await t.notThrowsAsync(host.load(fixture('echo-c')));
});

test('a plugin asking beyond the policy is permission-denied at load', async (t) => {
  const dir = fixtureCopy('echo-c', 'echo.c', {
    name: 'wants-net',
    tools: [{ name: 'echo', description: 'Echo', input: { type: 'object' } }],
    permissions: { network: { allow: ['api.example.com:443'] } },
  });
  const host = new PluginHost();
  t.teardown(() => host.close());
  await rejectsWith(t, host.load(dir), 'permission-denied');
  const allowed = new PluginHost({ policy: { network: { allow: ['api.example.com:443'] } } });
  t.teardown(() => allowed.close());
  await allowed.load(dir);
  t.deepEqual(allowed.tools()[0]?.annotations, { readOnlyHint: false, openWorldHint: true });
});

test('engine-unavailable when a forced engine is missing', async (t) => {
  const host = new PluginHost({
    engine: 'wasmtime',
    provider: new CountingProvider(
      (await import('../../src/provider/index.ts')).defaultEngineProvider({
        probes: {
          wasm: { engine: 'wasm', available: true },
          wasmtime: { engine: 'wasmtime', available: false, reason: 'not found', installHint: 'install wasmtime' },
          docker: { engine: 'docker', available: false, reason: 'no daemon' },
          kubernetes: { engine: 'kubernetes', available: false, reason: 'no cluster' },
        },
      }),
    ),
  });
  t.teardown(() => host.close());
  const error = await rejectsWith(t, host.load(fixture('echo-c')), 'engine-unavailable');
  t.regex(error?.message ?? '', /install wasmtime/);
});

test('a load abandoned by its signal fails at once, and the pool it was opening is stopped when it arrives', async (t) => {
  const engines = new CountingProvider();
  const host = new PluginHost({ provider: engines });
  t.teardown(() => host.close());
  const release = engines.hold();
  const controller = new AbortController();
  const loading = host.load(fixture('echo-c'), { signal: controller.signal });
  controller.abort();
  await rejectsWith(t, loading, 'aborted');
  t.deepEqual(host.tools(), []);
  release();
  // Nothing of the abandoned load stays registered: the same plugin loads again without a conflict.
  await host.load(fixture('echo-c'));
  t.is((await host.call('echo-c_add', { a: 1, b: 1 })).value, 2);
});

test('concurrent loads of the same plugin with the same grants open one pool', async (t) => {
  const engines = new CountingProvider();
  const host = new PluginHost({ provider: engines });
  t.teardown(() => host.close());
  const [a, b] = await Promise.all([host.agent('a', { plugins: [fixture('echo-c')] }), host.agent('b', { plugins: [fixture('echo-c')] })]);
  t.is(engines.opening, 1);
  t.is((await a.call('echo-c_add', { a: 1, b: 2 })).value, 3);
  t.is((await b.call('echo-c_add', { a: 2, b: 2 })).value, 4);
});

test('close() while a plugin is still opening waits for it, stops it, and fails the load', async (t) => {
  const engines = new CountingProvider();
  const host = new PluginHost({ provider: engines });
  const release = engines.hold();
  const loading = track(host.load(fixture('echo-c')));
  await engines.openStarted();
  const closing = track(host.close());
  release();
  await closing.promise;
  t.true(loading.settled());
  await rejectsWith(t, loading.promise, 'aborted');
  t.is(engines.instancesClosed, 1);
  t.true(engines.providerClosed);
});

(requireExternal('wasmtime', wasmtime.available, wasmtime.reason ?? 'wasmtime not found') ? test : test.skip)(
  'a plugin configured for wasmtime runs there, beside one on the worker engine, with the same typed results',
  async (t) => {
    const host = new PluginHost({ engines: { 'echo-c': 'wasmtime' } });
    t.teardown(() => host.close());
    t.is((await host.load(fixture('echo-c'))).engine, 'wasmtime');
    t.is((await host.load(fixture('trap'))).engine, 'wasm');
    const sum = await host.call('echo-c_add', { a: 20, b: 22 });
    t.is(sum.value, 42);
    t.is(sum.metrics.engine, 'wasmtime');
    await rejectsWith(t, host.call('echo-c_add', { a: 1 }), 'invalid-input');
    await rejectsWith(t, host.call('trap_boom', {}), 'trap');
  },
);
