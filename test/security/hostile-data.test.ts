/**
 * Plugins as data, end to end on the host: a manifest whose own field is a
 * ReDoS, tool schemas with ReDoS patterns (input and output), and a result
 * whose check is quadratic. Each ends with its code while a well-behaved
 * plugin (echo-c on the worker engine) keeps answering and an interval keeps
 * firing: both are counted, never timed (test/bench/hostile.ts has the figures).
 */
import test from 'ava';
import { isAirlockError } from '../../src/errors.ts';
import { PluginHost } from '../../src/host/index.ts';
import { fixture } from '../host/helpers.ts';
import { BOMB_ITEMS, REDOS_TEXT } from './hostile-inputs.ts';

test('matrix data.redos: hostile manifest patterns, schema patterns and a validation bomb end with their codes while the loop and echo-c keep going', async (t) => {
  const host = new PluginHost({ engine: 'wasm' });
  t.teardown(() => host.close());
  await host.load(fixture('echo-c'));
  await host.load(fixture('hostile-schema'));

  let beats = 0;
  const timer = setInterval(() => beats++, 5);
  let echoes = 0;
  let stop = false;
  const echoing = (async () => {
    while (!stop) {
      await host.call('echo-c_echo', { n: echoes });
      echoes++;
    }
  })();

  const codeOf = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
      return 'ok';
    } catch (err) {
      return isAirlockError(err) ? err.code : String(err);
    }
  };
  // One at a time, each measured by what happened around it.
  const outcomes: Record<string, { code: string; beats: number; echoes: number }> = {};
  const run = async (label: string, p: () => Promise<unknown>): Promise<void> => {
    const [b, e] = [beats, echoes];
    const code = await codeOf(p());
    outcomes[label] = { code, beats: beats - b, echoes: echoes - e };
  };
  await run('manifest', () => host.load(fixture('hostile-mount')));
  await run('input pattern', () => host.call('hostile-schema_in_redos', { s: REDOS_TEXT }));
  await run('output pattern', () => host.call('hostile-schema_out_redos', { s: REDOS_TEXT }));
  await run('validation bomb', () => host.call('hostile-schema_out_bomb', { items: BOMB_ITEMS }));
  stop = true;
  await echoing;
  clearInterval(timer);

  t.deepEqual(Object.fromEntries(Object.entries(outcomes).map(([k, v]) => [k, v.code])), {
    manifest: 'invalid-manifest',
    'input pattern': 'invalid-input',
    'output pattern': 'invalid-output',
    'validation bomb': 'timeout',
  });
  // The bomb runs to the plugin's 3 s timeout: a loop blocked through it would beat at most once, and echo-c would not answer.
  t.true(outcomes['validation bomb']!.beats >= 3, `the event loop came round ${outcomes['validation bomb']!.beats} times during the bomb`);
  t.true(outcomes['validation bomb']!.echoes >= 3, `echo-c answered ${outcomes['validation bomb']!.echoes} times during the bomb`);
  // The host is fine afterwards: the same tools still answer well-formed values.
  t.deepEqual((await host.call('hostile-schema_out_redos', { s: 'aaaa' })).value, { s: 'aaaa' });
});
