/**
 * A tool's own error as every engine reports it (src/engines/plugin-error.ts):
 * the plugin's text is hostile, so it is cut and cleaned before anyone reads
 * it; the frames the guest wrappers and container hosts append are split off.
 * The last tests throw a 1 MiB message of terminal escapes from a real plugin
 * on each engine (the attack matrix's `data.guest-error-text` row).
 */
import test from 'ava';
import { join } from 'node:path';
import { probeWasmtime } from '../../src/engines/wasmtime/index.ts';
import { cleanGuestText, MAX_CODE_CHARS, MAX_MESSAGE_CHARS, parseGuestError, pluginError, trapSummary } from '../../src/engines/plugin-error.ts';
import { cli } from '../helpers/cli.ts';
import { requireExternal } from '../helpers/require.ts';
import { DOCKER, FIXTURES } from './docker/helpers.ts';

// Probed before any test is declared (ava wants them declared synchronously).
const probe = await probeWasmtime();
const HOSTILE = `\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07\x1b[31mred\x9b31m\x00\x07${'A'.repeat(1 << 20)}`;

test('guest error text: escape sequences and control characters are removed, newlines and tabs kept', (t) => {
  t.is(
    cleanGuestText('\x1b[2Jclear\x1b]52;c;aGk=\x07 clip\x1b]8;;http://x\x1b\\link\x1b[0m\x9b1m\r\x00\x7f\x85 end\n\tnext', 100),
    'clear cliplink end\n\tnext',
  );
});

test('guest error text: a huge message is cut to MAX_MESSAGE_CHARS before anything else reads it', (t) => {
  const e = parseGuestError('E'.repeat(10_000), HOSTILE);
  t.true(e.message.length <= MAX_MESSAGE_CHARS + 1);
  t.true(e.code.length <= MAX_CODE_CHARS + 1);
  t.false(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(e.message + e.code));
  t.true(e.message.startsWith('redAAA'));
});

test('guest error frames: the `    at` lines are split off the message, innermost first, at most 10', (t) => {
  const frames = Array.from({ length: 30 }, (_, i) => `    at f${i} (plugin.js:${i + 1}:3)`);
  const e = parseGuestError('plugin-error', ['TypeError: bad', 'second line', ...frames].join('\n'));
  t.is(e.message, 'TypeError: bad\nsecond line');
  t.deepEqual(
    e.stack,
    frames.slice(0, 10).map((f) => f.trim().slice(3)),
  );
});

test('guest error: the message names the code (unless the default), the text and the innermost frame; the parts are in details', (t) => {
  const e = pluginError('tool fail', 'E_X', 'RangeError: too far\n    at go (src/a.js:3:9)\n    at call (plugin.js:1:1)', { logs: { stdout: '', stderr: '' } });
  t.is(e.code, 'plugin-error');
  t.is(e.message, 'tool fail failed: E_X: RangeError: too far; at go (src/a.js:3:9)');
  t.deepEqual(e.details, {
    pluginCode: 'E_X',
    pluginMessage: 'RangeError: too far',
    pluginStack: ['go (src/a.js:3:9)', 'call (plugin.js:1:1)'],
    logs: { stdout: '', stderr: '' },
  });
  t.is(pluginError('tool fail', 'plugin-error', 'plain').message, 'tool fail failed: plain');
  // Not strings (a hostile container's JSON): a default code and no message, never a crash.
  t.like(pluginError('x', 42, { toString: 'no' }).details, { pluginCode: 'plugin-error', pluginMessage: '(no message)' });
});

test("a trap's summary: a Rust panic's place and message, or a failed C assert, from what the tool printed", (t) => {
  t.is(
    trapSummary("log line\nthread '<unnamed>' (1) panicked at src/lib.rs:11:5:\nno forecast\x1b[2J\nnote: run with `RUST_BACKTRACE=1`\n"),
    'panicked at src/lib.rs:11:5: no forecast',
  );
  t.is(trapSummary('Assertion failed: n > 0 (plugin.c: tool: 17)\n'), 'Assertion failed: n > 0 (plugin.c: tool: 17)');
  t.is(trapSummary('just a log\n'), undefined);
  t.true((trapSummary(`panicked at x.rs:1:1:\n${'A'.repeat(1 << 20)}`) ?? '').length < 500);
});

/** `airlock call` of a fixture's `hostile` tool: the error line is bounded and carries no escape. */
async function hostileCall(t: import('ava').ExecutionContext, fixture: string, engine: string): Promise<void> {
  const r = await cli(['call', join(FIXTURES, fixture), 'hostile', '{}', '--engine', engine]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /plugin-error: .*failed: (?:Runtime)?Error: redAAAA/);
  t.true(r.stderr.length < MAX_MESSAGE_CHARS + 500, `stderr is ${r.stderr.length} characters`);
  t.false(r.stderr.includes('\x1b'), 'no ESC reaches the terminal');
  t.false(r.stderr.includes('52;c;'), 'the OSC 52 clipboard write is removed whole');
}

test('hostile guest error text on the worker engine: a 1 MiB message of escapes is cut and cleaned', (t) => hostileCall(t, 'guest-error-js', 'wasm'));

(requireExternal('wasmtime', probe.available, probe.reason ?? 'not found') ? test : test.skip)(
  'hostile guest error text on wasmtime: a 1 MiB message of escapes is cut and cleaned',
  (t) => hostileCall(t, 'guest-error-js', 'wasmtime'),
);

(DOCKER ? test : test.skip)('hostile guest error text on Docker (node): a 1 MiB message of escapes is cut and cleaned', (t) =>
  hostileCall(t, 'guest-error-node', 'docker'),
);
(DOCKER ? test : test.skip)('hostile guest error text on Docker (python): a 1 MiB message of escapes is cut and cleaned', (t) =>
  hostileCall(t, 'guest-error-python', 'docker'),
);
