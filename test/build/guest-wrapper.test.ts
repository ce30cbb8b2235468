/**
 * The guest wrapper (src/build/guest-wrapper.ts), end to end through
 * `airlock call`'s normal output: a JavaScript or Python tool that throws is
 * a plugin-error with the exception's type, message and line on both
 * component engines (not `trap: wasm unreachable`), with what it printed
 * first; a tool-error thrown on purpose passes unchanged; and a broken entry
 * fails its build naming file:line[:column], with the hint that fits.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { probeWasmtime } from '../../src/engines/wasmtime/index.ts';
import { cli } from '../helpers/cli.ts';
import { requireExternal } from '../helpers/require.ts';

const probe = await probeWasmtime();
const withWasmtime = requireExternal('wasmtime', probe.available, probe.reason ?? 'not found');
// componentize-py comes from PyPI (`pip install componentize-py==0.25.1`); CI must have it, so there these run and fail without it.
const py = spawnSync('componentize-py', ['--version']).status === 0 || process.env.CI !== undefined ? test.serial : test.serial.skip;

const tmp = await mkdtemp(join(tmpdir(), 'airlock-guest-wrapper-'));
test.after.always(() => rm(tmp, { recursive: true, force: true }));

async function copyFixture(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmp, `${name}-`));
  await cp(join(FIXTURES_DIR, name), dir, { recursive: true });
  return dir;
}

const ENGINES = ['wasm', ...(withWasmtime ? ['wasmtime'] : [])];

for (const engine of ENGINES) {
  test.serial(`JS (${engine}): a thrown TypeError shows its type, message and line in airlock call's output, after what the tool printed`, async (t) => {
    const r = await cli(['call', join(FIXTURES_DIR, 'guest-error-js'), 'fail', '{"city":"Atlantis"}', '--engine', engine]);
    t.is(r.code, 1);
    t.is(r.stdout, '');
    t.is(r.stderr, 'looking up Atlantis\nairlock call: plugin-error: tool fail failed: TypeError: no forecast for Atlantis; at forecast (plugin.js:5:9)\n');
  });

  test.serial(`JS (${engine}): a tool-error thrown on purpose keeps its code and message`, async (t) => {
    const r = await cli(['call', join(FIXTURES_DIR, 'guest-error-js'), 'refuse', '{}', '--engine', engine, '--json']);
    const out = JSON.parse(r.stdout) as { error: { details: Record<string, unknown> } };
    t.like(out.error.details, { pluginCode: 'E_REFUSED', pluginMessage: 'refused refuse' });
    t.false('pluginStack' in out.error.details);
  });

  py(`Python (${engine}): a raised ValueError shows its type, message and line in airlock call's output, after what the tool printed`, async (t) => {
    const r = await cli(['call', join(FIXTURES_DIR, 'guest-error-py'), 'fail', '{"city":"Atlantis"}', '--engine', engine]);
    t.is(r.code, 1);
    t.is(r.stderr, 'looking up Atlantis\nairlock call: plugin-error: tool fail failed: ValueError: no forecast for Atlantis; at forecast (plugin.py:11)\n');
    const json = JSON.parse(
      (await cli(['call', join(FIXTURES_DIR, 'guest-error-py'), 'fail', '{"city":"Atlantis"}', '--engine', engine, '--json'])).stdout,
    ) as {
      error: { details: Record<string, unknown> };
    };
    t.deepEqual(json.error.details.pluginStack, ['forecast (plugin.py:11)', 'call (plugin.py:17)']);
  });
}

test.serial('JS: a syntax error fails the build at file:line:column, with the line and no export hint', async (t) => {
  const dir = await copyFixture('guest-error-js');
  await writeFile(join(dir, 'plugin.js'), 'export const tools = {\n  call(name, input) {\n    return JSON.stringify(input;\n  },\n};\n');
  const r = await cli(['build', dir]);
  t.is(r.code, 1);
  t.regex(
    r.stderr,
    /^airlock build: build-failed\n.*plugin\.js:3:32: SyntaxError: missing \) after argument list \(fix: fix the syntax error at that position\)\n {2}\| {5}return JSON\.stringify\(input;\n {2}\| \.+\^\n$/,
  );
  t.notRegex(r.stderr, /export `tools`|wizer|RUST_BACKTRACE/);
});

test.serial('JS: an entry without `tools` fails the build naming it, with the export hint', async (t) => {
  const dir = await copyFixture('guest-error-js');
  await writeFile(join(dir, 'plugin.js'), 'export const tool = {};\n');
  const r = await cli(['build', dir, '--json']);
  t.is(r.code, 1);
  const out = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; problems: Array<{ file: string; hint: string }>; details: { raw: string } } };
  t.false(out.ok);
  t.is(out.error.code, 'build-failed');
  t.is(out.error.problems[0]?.file, join(dir, 'plugin.js'));
  t.regex(out.error.problems[0]?.hint ?? '', /export const tools/);
  t.regex(out.error.details.raw, /Exception while evaluating top-level script/, 'the tool output, as printed, is kept for --json');
});

py('Python: a syntax error fails the build at file:line, without the Tools hint or a Rust backtrace', async (t) => {
  const dir = await copyFixture('guest-error-py');
  await writeFile(join(dir, 'plugin.py'), 'import json\n\ndef f(:\n    pass\n');
  const r = await cli(['build', dir], { cwd: dir });
  t.is(r.code, 1);
  t.regex(r.stderr, /^airlock build: build-failed\nplugin\.py:3:1: SyntaxError: invalid syntax.*\(fix: fix the syntax error at that line\)\n$/);
  t.notRegex(r.stderr, /class Tools|stack backtrace|RUST_BACKTRACE/);
});

py('Python: an entry without class Tools fails the build naming it, with the Tools hint', async (t) => {
  const dir = await copyFixture('guest-error-py');
  await writeFile(join(dir, 'plugin.py'), 'import json\n');
  const r = await cli(['build', dir], { cwd: dir });
  t.is(r.code, 1);
  t.regex(r.stderr, /plugin\.py: TypeError: plugin\.py does not define class Tools with a call method \(fix: define `class Tools\(exports\.Tools\)`/);
});
