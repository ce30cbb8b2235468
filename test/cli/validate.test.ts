import test from 'ava';
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/plugin.ts';

const fixtures = new URL('../../fixtures/manifests/', import.meta.url).pathname;
const invalid = readdirSync(join(fixtures, 'invalid')).map((n) => join(fixtures, 'invalid', n));
const valid = readdirSync(join(fixtures, 'valid')).map((n) => join(fixtures, 'valid', n));

test('validate: every invalid fixture is rejected with exit 1 and one file:line:column line per problem', async (t) => {
  for (const dir of invalid) {
    const run = await cli(['validate', dir], { cwd: dir });
    t.is(run.code, 1, dir);
    const lines = run.stdout.trimEnd().split('\n');
    t.true(lines.length > 0, dir);
    for (const line of lines) t.regex(line, /^plugin\.yaml:\d+:\d+: /, `${dir}: ${line}`);
  }
});

test('validate: valid fixtures exit 0 with a summary line each', async (t) => {
  const run = await cli(['validate', ...valid], { cwd: fixtures });
  t.is(run.code, 0, run.stdout + run.stderr);
  t.is(run.stdout.trimEnd().split('\n').length, valid.length);
  t.regex(run.stdout, /^ok {2}valid\/python-full\/plugin\.yaml {2}weather@1\.2\.0-beta\.1\+build\.5 \(python, 2 tools\)$/m);
});

test('validate: one invalid plugin among valid ones makes the exit status 1', async (t) => {
  const run = await cli(['validate', valid[0]!, invalid[0]!]);
  t.is(run.code, 1);
  t.regex(run.stderr, /1 valid, 1 invalid/);
});

test('validate --json: structured problems with positions', async (t) => {
  const run = await cli(['validate', '--json', join(fixtures, 'invalid', 'unknown-field')]);
  t.is(run.code, 1);
  const [result] = JSON.parse(run.stdout) as [{ ok: boolean; problems: { line: number; column: number; path: string; hint: string }[] }];
  t.false(result.ok);
  t.like(result.problems[0], { line: 3, column: 1, path: 'descripton', hint: 'did you mean "description"?' });
});

test('validate: a folder without plugin.yaml and a missing path are clear problems, not crashes', async (t) => {
  const run = await cli(['validate', fixtures, '/no/such/dir']);
  t.is(run.code, 1);
  t.regex(run.stdout, /cannot read plugin\.yaml \(fix: create plugin\.yaml/);
  t.regex(run.stdout, /\/no\/such\/dir: no such file or folder/);
});

test('usage errors exit 2 with the command help; --help exits 0 for every command', async (t) => {
  const none = await cli(['validate']);
  t.is(none.code, 2);
  t.regex(none.stderr, /Usage: airlock validate/);
  const unknown = await cli(['frobnicate']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown command "frobnicate"/);
  const { COMMANDS } = await import('../../src/cli/main.ts');
  for (const c of COMMANDS) {
    const help = await cli([c.name, '--help']);
    t.is(help.code, 0, c.name);
    t.regex(help.stdout, new RegExp(`^Usage: airlock ${c.name}`), c.name);
  }
  const bad = await cli(['validate', '--frobnicate', 'x']);
  t.is(bad.code, 2);
});

test('the airlock bin runs as a process and exits 1 on an invalid plugin', async (t) => {
  const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
  const err = await t.throwsAsync(promisify(execFile)(process.execPath, [main, 'validate', join(fixtures, 'invalid', 'many-problems')]));
  const failure = err as Error & { code: number; stdout: string };
  t.is(failure.code, 1);
  t.is(failure.stdout.trimEnd().split('\n').length, 10);
});

test('validate reports a build arg that would change the dependency install (once only the Docker build refused it) with its line, field and fix', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'main.py'), '');
  writeFileSync(
    join(dir, 'plugin.yaml'),
    [
      'apiVersion: airlock/v1',
      'name: badarg',
      'version: 1.0.0',
      'runtime: python',
      'entry: main.py',
      'tools:',
      '  - name: echo',
      '    description: Echo',
      '    input: { type: object }',
      'build:',
      '  args:',
      '    PIP_INDEX_URL: https://pypi.example/simple',
      '    LD_PRELOAD: /tmp/x.so',
      '',
    ].join('\n'),
  );
  const run = await cli(['validate', '--json', dir]);
  t.is(run.code, 1, run.stdout + run.stderr);
  const [result] = JSON.parse(run.stdout) as [{ ok: boolean; problems: { line: number; path: string; message: string; hint: string }[] }];
  t.false(result.ok);
  t.is(result.problems.length, 1, JSON.stringify(result.problems));
  t.like(result.problems[0], { line: 13, path: 'build.args.LD_PRELOAD' });
  t.regex(result.problems[0]!.message, /LD_PRELOAD would change what the dependency install runs/);
  t.regex(result.problems[0]!.hint, /^remove it; .*PIP_INDEX_URL/);
});
