/**
 * A component's clocks and waits on the worker engine (fixture clock-c:
 * wasi-libc's nanosleep, poll() and time() through the preview1 adapter,
 * so wasi:clocks and wasi:io/poll as a real guest uses them; Airlock's own
 * baseline, src/capabilities/own-io.ts, since it imports no wasi:http). A
 * wait lasts at least what was asked (bounded from below only: a busy
 * machine may wake later), and a guest asleep for ever is still ended by
 * the call's timeout, its worker replaced.
 */
import test from 'ava';
import { WasmEngine } from '../../../src/engines/wasm/index.ts';
import type { WasmPlugin } from '../../../src/engines/wasm/index.ts';
import { rejection } from '../../helpers/rejection.ts';
import { fixtureComponent, fixtureGrants } from './helpers.ts';

const engine = new WasmEngine();
let plugin: WasmPlugin;
test.before(async () => {
  plugin = await engine.load(fixtureGrants('clock-c', { resources: { timeoutMs: 1000 } }), { kind: 'component', path: await fixtureComponent('clock-c') });
});
test.after.always(() => engine.close());

const sleptNs = async (tool: string, ms: number): Promise<number> =>
  (JSON.parse((await plugin.call(tool, JSON.stringify({ ms }))).output) as { slept_ns: number }).slept_ns;

test.serial('nanosleep waits at least the time asked, on the monotonic clock the guest reads', async (t) => {
  t.true((await sleptNs('sleep', 30)) >= 30e6);
});

test.serial('poll() with only a timeout waits at least that long', async (t) => {
  t.true((await sleptNs('poll', 25)) >= 25e6);
});

test.serial('a zero-length sleep returns', async (t) => {
  t.true((await sleptNs('sleep', 0)) >= 0);
});

test.serial("the guest's wall clock is the host's, to the second", async (t) => {
  const before = Math.floor(Date.now() / 1000);
  const { seconds } = JSON.parse((await plugin.call('now', '{}')).output) as { seconds: number };
  t.true(seconds >= before && seconds <= Math.ceil(Date.now() / 1000));
});

test.serial('a guest asleep for ever is ended by the timeout, and a fresh worker serves the next call', async (t) => {
  const err = await rejection(plugin.call('sleep', JSON.stringify({ ms: 3_600_000 }), { timeoutMs: 300 }));
  t.is(err.code, 'timeout');
  t.true((await sleptNs('sleep', 1)) >= 1e6);
});
