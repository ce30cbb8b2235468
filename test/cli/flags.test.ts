/** The flags commands share (src/cli/flags.ts): parsed and checked once, turned into a host in one place. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { ENGINE_NAMES } from '../../src/engines/types.ts';
import { engineFromFlags, hostFromFlags, parseFlags, policyFromFlags } from '../../src/cli/flags.ts';
import { UsageError, type CliIO } from '../../src/cli/io.ts';
import type { AirlockError } from '../../src/errors.ts';
import { cli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/plugin.ts';

const ioIn = (cwd: string): CliIO => ({ stdout: () => undefined, stderr: () => undefined, stdin: async () => '', cwd, isTTY: false });

test('--engine takes auto or an engine name, anything else is a usage error naming the choices', (t) => {
  for (const engine of ['auto', ...ENGINE_NAMES] as const) t.is(engineFromFlags(parseFlags(['--engine', engine], ['engine']).values), engine);
  t.is(engineFromFlags(parseFlags([], ['engine']).values), 'auto');
  const err = t.throws(() => parseFlags(['--engine', 'qemu'], ['engine']), { instanceOf: UsageError });
  t.is(err?.message, `--engine must be auto or one of ${ENGINE_NAMES.join(', ')}`);
});

test('--timeout takes a positive number of milliseconds', (t) => {
  t.is(parseFlags(['--timeout', '250'], ['timeout']).values.timeout, '250');
  for (const bad of ['0', '-5', 'soon'])
    t.throws(() => parseFlags([`--timeout=${bad}`], ['timeout']), { instanceOf: UsageError, message: /--timeout takes a positive number/ });
});

test("a shared flag a command does not take is refused, and a command's own flags sit beside the shared ones", (t) => {
  t.throws(() => parseFlags(['--engine', 'wasm'], ['json']), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  const { values, positionals } = parseFlags(['dir', '--json', '--force'], ['json'], { force: { type: 'boolean' } });
  t.deepEqual({ ...values }, { json: true, force: true });
  t.deepEqual(positionals, ['dir']);
});

test('--policy is read relative to the folder the command runs in, for a host and for a bare policy', (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'policy.yaml'), 'netwrk: {}\n');
  for (const make of [() => policyFromFlags({ policy: 'policy.yaml' }, ioIn(dir)), () => hostFromFlags({ policy: 'policy.yaml' }, ioIn(dir))]) {
    const err = t.throws<AirlockError>(make, { code: 'invalid-policy' });
    t.is(err?.problems[0]?.file, join(dir, 'policy.yaml'));
  }
  t.is(policyFromFlags({}, ioIn(dir)).origin, policyFromFlags({}, ioIn('/')).origin, 'no --policy: the default policy');
});

test('every command that takes --engine refuses an unknown engine the same way, before opening anything', async (t) => {
  const runs = await Promise.all([
    cli(['call', 'nowhere', 'tool', '--engine', 'qemu']),
    cli(['list', 'nowhere', '--engine', 'qemu']),
    cli(['serve', 'nowhere', '--engine', 'qemu']),
    cli(['inspect', 'nowhere', '--engine', 'qemu']),
  ]);
  for (const run of runs) {
    t.is(run.code, 2);
    t.regex(run.stderr, new RegExp(`: --engine must be auto or one of ${ENGINE_NAMES.join(', ')}\\n`));
  }
});
