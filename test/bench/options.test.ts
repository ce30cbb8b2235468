import test from 'ava';
import { benchConfig, DEFAULT_CONCURRENCY, QUICK_SCALE, TARGET_NAMES, BENCH_PLUGIN_NAMES } from '../../src/bench/index.ts';
import { cli } from '../helpers/cli.ts';

test('without flags every engine and plugin runs, 3 rounds, the default concurrency levels', (t) => {
  const c = benchConfig({}, 'airlock bench');
  t.deepEqual(c.targets, [...TARGET_NAMES]);
  t.false(c.explicitTargets);
  t.deepEqual(c.plugins, [...BENCH_PLUGIN_NAMES]);
  t.is(c.rounds, 3);
  t.deepEqual(c.concurrency, [...DEFAULT_CONCURRENCY]);
  t.is(c.budgetScale, 1);
});

test('--engines and --plugins take comma-separated names; naming engines makes them required', (t) => {
  const c = benchConfig({ engines: 'worker, in-thread,worker', plugins: 'bench-py', rounds: '5', concurrency: '4,1', quick: true }, 'x');
  t.deepEqual(c.targets, ['worker', 'in-thread']);
  t.true(c.explicitTargets);
  t.deepEqual(c.plugins, ['bench-py']);
  t.is(c.rounds, 5);
  t.deepEqual(c.concurrency, [1, 4]);
  t.is(c.budgetScale, QUICK_SCALE);
});

const bad: [string, Parameters<typeof benchConfig>[0], RegExp][] = [
  ['an unknown engine', { engines: 'worker,docker' }, /--engines: unknown name "docker"; use a comma-separated list of: in-thread, worker/],
  ['an empty engine list', { engines: ' , ' }, /--engines is empty/],
  ['an unknown plugin', { plugins: 'bench-go' }, /--plugins: unknown name "bench-go"/],
  ['zero rounds', { rounds: '0' }, /--rounds must be a whole number from 1 to 100, got "0"/],
  ['a fractional round count', { rounds: '2.5' }, /--rounds must be a whole number/],
  ['a bad concurrency level', { concurrency: '1,x' }, /--concurrency must be a whole number from 1 to 256, got "x"/],
];
for (const [what, flags, message] of bad) {
  test(`benchConfig refuses ${what}, naming the flag and the fix`, (t) => {
    t.throws(() => benchConfig(flags, 'x'), { message });
  });
}

test('airlock bench with a bad flag value is a usage error (exit 2) naming the flag, with the help', async (t) => {
  const r = await cli(['bench', '--rounds', 'three']);
  t.is(r.code, 2);
  t.regex(r.stderr, /airlock bench: --rounds must be a whole number from 1 to 100, got "three"/);
  t.regex(r.stderr, /Usage: airlock bench/);
});

test('airlock bench with an unknown flag or an argument is a usage error', async (t) => {
  t.is((await cli(['bench', '--engine', 'worker'])).code, 2);
  const r = await cli(['bench', 'worker']);
  t.is(r.code, 2);
  t.regex(r.stderr, /bench takes no arguments, got "worker"; choose what to run with --engines/);
});

test('airlock --help lists the bench command', async (t) => {
  t.regex((await cli(['--help'])).stdout, /\n {2}bench +Measure every engine/);
});
