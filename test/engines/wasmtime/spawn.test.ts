/**
 * The wasmtime engine starts its processes through the spawn helper
 * (src/spawn/), never with the host's own fork: what that changes for a
 * call (who is the parent, how aborts and timeouts kill, what a dead helper
 * does to a call). Each test has its own helper, so killing one touches no
 * other test. Ends are observed through the helper's events, never timers.
 * Skips loudly without wasmtime; fails in CI (AIRLOCK_REQUIRE_WASMTIME=1).
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { probeWasmtime, WasmtimeEngine } from '../../../src/engines/wasmtime/index.ts';
import { SpawnHelper } from '../../../src/spawn/client.ts';
import { procStat, waitEnded } from '../../helpers/proc.ts';
import { requireExternal } from '../../helpers/require.ts';
import { fixtureComponent, fixtureGrants } from '../wasm/helpers.ts';
import { rejection } from '../../helpers/rejection.ts';

const probe = await probeWasmtime();
const run = requireExternal('wasmtime', probe.available, probe.reason ?? 'not found');
const t_ = run ? test : test.skip;

/** The `state` fixture (its `spin` never returns) on an engine with a helper of its own. */
async function setup(timeoutMs = 60_000) {
  const helper = new SpawnHelper();
  const engine = new WasmtimeEngine({ probe, spawnHelper: helper });
  const plugin = await engine.load(fixtureGrants('state', { resources: { timeoutMs } }), { kind: 'component', path: await fixtureComponent('state') });
  const started = () => new Promise<{ pid: number; helperPid: number }>((resolve) => helper.once('started', (pid, helperPid) => resolve({ pid, helperPid })));
  const exited = (pid: number) =>
    new Promise<NodeJS.Signals | null>((resolve) => {
      const on = (p: number, _code: number | null, signal: NodeJS.Signals | null): void => {
        if (p !== pid) return;
        helper.off('exited', on);
        resolve(signal);
      };
      helper.on('exited', on);
    });
  const close = async () => {
    await engine.close();
    await helper.close();
  };
  return { helper, plugin, started, exited, close };
}

t_("a call's wasmtime process is the helper's child, not the host's; an abort kills it through the helper", async (t) => {
  const s = await setup();
  t.teardown(s.close);
  const up = s.started();
  const ac = new AbortController();
  const call = s.plugin.call('spin', '{}', { signal: ac.signal });
  const { pid, helperPid } = await up;
  t.is(procStat(pid)?.ppid, helperPid);
  t.not(helperPid, process.pid);
  t.regex(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /wasmtime\0run\0/);
  const gone = s.exited(pid);
  ac.abort();
  t.is((await rejection(call)).code, 'aborted');
  t.is(await gone, 'SIGKILL');
  // The lane is free again: the next call runs.
  t.is((await s.plugin.call('count', '{}')).output, '1');
});

t_('a per-call timeout kills the process through the helper', async (t) => {
  const s = await setup();
  t.teardown(s.close);
  const up = s.started();
  const call = s.plugin.call('spin', '{}', { timeoutMs: 300 });
  const { pid } = await up;
  const gone = s.exited(pid);
  t.is((await rejection(call)).code, 'timeout');
  t.is(await gone, 'SIGKILL');
});

t_('a helper that dies mid-call fails the call (crash), its wasmtime process is killed, and the next call runs on a new helper', async (t) => {
  const s = await setup();
  t.teardown(s.close);
  const up = s.started();
  const call = s.plugin.call('spin', '{}');
  const { pid, helperPid } = await up;
  process.kill(helperPid, 'SIGKILL');
  const e = await rejection(call);
  t.is(e.code, 'crash');
  t.regex(e.message, /spawn helper/);
  t.true(await waitEnded(pid), `wasmtime process ${pid} outlived its helper`);
  t.is((await s.plugin.call('count', '{}')).output, '1');
  t.not(s.helper.pid, helperPid);
});

t_('calls of several plugins share one helper process', async (t) => {
  const s = await setup();
  t.teardown(s.close);
  const engine = new WasmtimeEngine({ probe, spawnHelper: s.helper });
  t.teardown(() => engine.close());
  const echo = await engine.load(fixtureGrants('echo-c'), { kind: 'component', path: await fixtureComponent('echo-c') });
  const parents = new Set<number>();
  s.helper.on('started', (_pid, helperPid) => parents.add(helperPid));
  t.is((await echo.call('echo', '"a"')).output, '"a"');
  t.is((await s.plugin.call('count', '{}')).output, '1');
  t.deepEqual([...parents], [s.helper.pid]);
});
