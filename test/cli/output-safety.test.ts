/**
 * What a plugin wrote reaches the user's terminal only escaped, even when
 * stdout and stderr are files (a CI log, `tee`): the real CLI is run as a
 * process with both streams redirected to files, and the bytes are checked.
 * The fixture terminal-escapes puts an OSC 52 clipboard write, an OSC 8 link,
 * a screen clear, U+009B (CSI) and U+202E (right-to-left override) in its
 * tool description, result, logs and error message.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanGuestText, MAX_MESSAGE_CHARS } from '../../src/engines/plugin-error.ts';
import { tempDir } from '../helpers/plugin.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const PLUGIN = join(ROOT, 'fixtures/plugins/terminal-escapes');

/** The sequences as the fixture emits them (escapes.c RAW). */
const RAW = '\x1b]52;c;ZXZpbA==\x07\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\\x1b[2J\u009b31m\u202etxt.exe';
const DESCRIPTION = `Harmless${RAW.replace('txt.exe', '')}txt.exe`;
/** RAW in a tool-error: the host removes escape sequences and controls from a plugin's error text (src/engines/plugin-error.ts). */
const ERROR_TEXT = cleanGuestText(RAW, MAX_MESSAGE_CHARS);

/** Anything a terminal would act on, or that hides or reorders text; newline and tab are fine. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `airlock <args>` with stdout and stderr redirected to files (no TTY anywhere). */
async function airlock(args: string[], cwd = ROOT): Promise<Run> {
  const dir = tempDir();
  const [out, err] = [join(dir, 'stdout'), join(dir, 'stderr')];
  const fds = [openSync(out, 'w'), openSync(err, 'w')] as const;
  try {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd, stdio: ['ignore', fds[0], fds[1]] });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c) => resolve(c));
    });
    return { code, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

function clean(t: import('ava').ExecutionContext, run: Run, what: string): void {
  t.notRegex(run.stdout, UNSAFE, `${what}: stdout`);
  t.notRegex(run.stderr, UNSAFE, `${what}: stderr`);
}

test('terminal escapes: call prints the result, logs and error message of a plugin escaped into a file', async (t) => {
  const ok = await airlock(['call', PLUGIN, 'emit']);
  t.is(ok.code, 0, ok.stderr);
  clean(t, ok, 'call emit');
  t.is(JSON.parse(ok.stdout), RAW, 'the result is still the JSON of the same value');
  t.is(ok.stderr, `out:${RAW}\nerr:${RAW}\n`.replace(UNSAFE_G(), esc));
  const fail = await airlock(['call', PLUGIN, 'fail']);
  t.is(fail.code, 1);
  clean(t, fail, 'call fail');
  t.true(fail.stderr.includes(`failed:${ERROR_TEXT}`.replace(UNSAFE_G(), esc)), fail.stderr);
});

test('terminal escapes: call --json is valid JSON whose values round-trip, with \\uXXXX escapes', async (t) => {
  const ok = await airlock(['call', PLUGIN, 'emit', '--json']);
  t.is(ok.code, 0, ok.stderr);
  clean(t, ok, 'call --json');
  const out = JSON.parse(ok.stdout) as { value: string; logs: { stdout: string; stderr: string } };
  t.is(out.value, RAW);
  t.deepEqual(out.logs, { stdout: `out:${RAW}\n`, stderr: `err:${RAW}\n` });
  const fail = await airlock(['call', PLUGIN, 'fail', '--json']);
  t.is(fail.code, 1);
  clean(t, fail, 'call fail --json');
  t.true((JSON.parse(fail.stdout) as { error: { message: string } }).error.message.includes(`failed:${ERROR_TEXT}`));
});

test('terminal escapes: list and inspect show a tool description escaped, and their --json round-trips it', async (t) => {
  for (const command of ['list', 'inspect']) {
    const text = await airlock([command, PLUGIN]);
    t.is(text.code, 0, text.stderr);
    clean(t, text, command);
    t.true(text.stdout.includes(DESCRIPTION.replace(UNSAFE_G(), esc)), text.stdout);
    const json = await airlock([command, PLUGIN, '--json']);
    t.is(json.code, 0, json.stderr);
    clean(t, json, `${command} --json`);
    const tools = (JSON.parse(json.stdout) as { tools: Array<{ description: string }> }).tools;
    t.is(tools[0]?.description, DESCRIPTION);
  }
});

test('terminal escapes: validate echoes hostile manifest values escaped, in text and in --json', async (t) => {
  const dir = tempDir();
  // Hostile name and runtime (refused, and echoed in the problems) and description (valid, echoed by ok lines' neighbours).
  writeFileSync(
    join(dir, 'plugin.yaml'),
    'apiVersion: airlock/v1\nname: "bad\\e[2Jname\\u202E"\nversion: 0.1.0\nruntime: "wasm\\x9b2J\\e]52;c;ZXZpbA==\\a"\nentry: x.c\ntools:\n  - name: emit\n    description: "Harmless\\e]8;;https://evil.example/\\e\\\\link\\u202E"\n    input: { type: object }\n',
  );
  const text = await airlock(['validate', dir]);
  t.is(text.code, 1);
  clean(t, text, 'validate');
  t.regex(text.stdout, /wasm\\u009b2J/);
  const json = await airlock(['validate', dir, '--json']);
  clean(t, json, 'validate --json');
  const messages = (JSON.parse(json.stdout) as Array<{ problems: Array<{ message: string }> }>)[0]!.problems.map((p) => p.message).join('\n');
  t.true(messages.includes('\u009b2J'), 'the parsed message holds the real character again');
});

/** The test's own reference escaping (\uXXXX per UTF-16 unit), independent of src/cli/io.ts. */
function UNSAFE_G(): RegExp {
  return new RegExp(UNSAFE.source, 'g');
}
function esc(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
