/**
 * The wasmtime engine against the real CLI, on the fixtures in
 * fixtures/plugins. What every engine must do alike (limits, hostile
 * fixtures, grants) is in test/conformance; this file covers what is this
 * engine's own: the .cwasm cache, parsing the CLI's printed result, killing
 * processes, refusing what the CLI cannot express. Skips loudly without
 * wasmtime; fails in CI (AIRLOCK_REQUIRE_WASMTIME=1).
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeWasmtime, WasmtimeEngine } from '../../../src/engines/wasmtime/index.ts';
import type { GrantsOverrides } from '../../helpers/grants.ts';
import { requireExternal } from '../../helpers/require.ts';
import { fixtureComponent, fixtureGrants } from '../wasm/helpers.ts';
import { rejection } from '../../helpers/rejection.ts';

const probe = await probeWasmtime();
const run = requireExternal('wasmtime', probe.available, probe.reason ?? 'not found');
const t_ = run ? test : test.skip;
const engine = new WasmtimeEngine({ probe });
test.after.always(() => engine.close());

async function load(fixture: string, o: GrantsOverrides = {}) {
  return engine.load(fixtureGrants(fixture, { ...o, resources: { timeoutMs: 10_000, ...o.resources } }), {
    kind: 'component',
    path: await fixtureComponent(fixture),
  });
}

t_('echo returns the input, escapes intact, and the .cwasm is cached by component hash and wasmtime version', async (t) => {
  const plugin = await load('echo-c');
  t.true(existsSync(plugin.info.cwasm));
  t.regex(plugin.info.cwasm, /wasmtime[/\\]48\.\d+\.\d+[/\\][0-9a-f]{64}\.cwasm$/);
  const input = JSON.stringify({ s: 'quote " backslash \\ newline \n tab \t nul \u0000 é 😀' });
  const r = await plugin.call('echo', input);
  t.is(r.output, input);
  t.is(r.metrics.engine, 'wasmtime');
  t.deepEqual(r.logs, { stdout: '', stderr: '' });
  const again = await load('echo-c');
  t.is(again.info.cwasm, plugin.info.cwasm);
});

t_("the guest's own stdout is logs, not output, even when it looks like a printed result", async (t) => {
  const plugin = await load('state');
  const r = await plugin.call('print', 'ok("forged")');
  t.is(r.output, '"printed"');
  t.is(r.logs.stdout, 'ok("forged")\n');
  t.is(r.logs.stderr, 'err:ok("forged")\n');
});

t_("a tool-error keeps the guest's message exactly, whatever it contains", async (t) => {
  const plugin = await load('state');
  const message = 'fail "quoted"\n\\ é }) err(';
  const e = await rejection(plugin.call('fail', message));
  t.is(e.code, 'plugin-error');
  t.is(e.details.pluginCode, 'bad-thing');
  t.is(e.details.pluginMessage, message);
});

t_('a lower per-call timeout is enforced by killing the process', async (t) => {
  const plugin = await load('state', { resources: { timeoutMs: 60_000 } });
  const e = await rejection(plugin.call('spin', '{}', { timeoutMs: 200 }));
  t.is(e.code, 'timeout');
});

t_('a memory bomb hits -W max-memory-size and is memory-limit', async (t) => {
  const plugin = await load('membomb', { resources: { memoryBytes: 8 << 20 } });
  const e = await rejection(plugin.call('grow', '{}'));
  t.is(e.code, 'memory-limit');
  t.regex(e.message, /growing memory/);
});

t_('a network grant is refused with engine-unavailable, even for a component that imports no network', async (t) => {
  const e = await rejection(load('echo-c', { network: { allow: [{ host: 'example.com', wildcard: false }] } }));
  t.is(e.code, 'engine-unavailable');
  t.regex(e.message, /allowlist/);
});

t_('a component importing wasi:http is refused at load: the CLI has no allowlist for it', async (t) => {
  const e = await rejection(load('net'));
  t.is(e.code, 'engine-unavailable');
  t.regex(e.message, /wasi:http\/outgoing-handler/);
});

t_('an aborted call kills its process: aborted', async (t) => {
  const plugin = await load('state', { resources: { timeoutMs: 60_000 } });
  const ac = new AbortController();
  const p = plugin.call('spin', '{}', { signal: ac.signal });
  ac.abort();
  t.is((await rejection(p)).code, 'aborted');
});

t_('past concurrency and queue, calls are overloaded', async (t) => {
  const plugin = await load('state', { resources: { concurrency: 1, queue: 0, timeoutMs: 60_000 } });
  const ac = new AbortController();
  const running = plugin.call('spin', '{}', { signal: ac.signal });
  const e = await rejection(plugin.call('count', '{}'));
  t.is(e.code, 'overloaded');
  ac.abort();
  t.is((await rejection(running)).code, 'aborted');
  t.is((await plugin.call('count', '{}')).output, '1');
});

t_('an input too large for the command line is invalid-input, naming the worker engine', async (t) => {
  const plugin = await load('echo-c');
  const e = await rejection(plugin.call('echo', JSON.stringify('x'.repeat(200_000))));
  t.is(e.code, 'invalid-input');
  t.regex(e.message, /engine: wasm/);
});

t_('an input longer than the command line allows is refused before it is encoded', async (t) => {
  const plugin = await load('echo-c');
  const e = await rejection(plugin.call('echo', JSON.stringify('x'.repeat(8 << 20))));
  t.is(e.code, 'invalid-input');
  // Measured on the raw text (no encoding pass over 8 MiB), hence "at least".
  t.regex(e.message, /is at least 8388610 bytes/);
});

t_('a core module (not a component) fails to load with build-failed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-wt-'));
  try {
    const core = join(dir, 'core.wasm');
    await writeFile(core, Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00));
    const e = await rejection(engine.load(fixtureGrants('echo-c'), { kind: 'component', path: core }));
    t.is(e.code, 'build-failed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing wasmtime is engine-unavailable with the install hint', async (t) => {
  const missing = new WasmtimeEngine({ probe: { available: false, reason: 'not found', installHint: 'HINT' } });
  const e = await rejection(missing.load(fixtureGrants('echo-c'), { kind: 'component', path: '/nonexistent.wasm' }));
  t.is(e.code, 'engine-unavailable');
  t.regex(e.message, /HINT/);
});
