import test from 'ava';
import { classify, diagnosticCause, type Finished } from '../../../src/engines/wasmtime/outcome.ts';

// Diagnostics as wasmtime 48.0.8 prints them (RUST_BACKTRACE=0).
const trapDiag = (cause: string): string =>
  `Error: failed to run main module \`x.cwasm\`\n\nCaused by:\n    0: error while executing at wasm backtrace:\n    0:    0xf06 - <unknown>!call\nnote: using the \`WASMTIME_BACKTRACE_DETAILS=1\` environment variable may show more debugging information\n    1: ${cause}\n`;

const base = (o: Partial<Finished>): Finished => ({
  tool: 't',
  code: 0,
  signal: null,
  stdout: { text: '', cut: false },
  stderr: { text: '', cut: false },
  timeoutMs: 1000,
  outputBytes: 100,
  memoryBytes: 1 << 20,
  ...o,
});

test('exit 0 with ok: the output, guest stdout without the printed result', (t) => {
  const o = classify(base({ stdout: { text: 'hello\nok("{}")\n', cut: false }, stderr: { text: 'warn\n', cut: false } }));
  t.is(o.output, '{}');
  t.is(o.guestStdout, 'hello\n');
  t.is(o.guestStderr, 'warn\n');
});

test("exit 0 with err: plugin-error carrying the guest's code and message", (t) => {
  const o = classify(base({ stdout: { text: 'err({code: "nope", message: "bad"})\n', cut: false } }));
  t.is(o.error?.code, 'plugin-error');
  t.deepEqual(o.error?.details, { pluginCode: 'nope', pluginMessage: 'bad' });
});

test('a result over resources.output is output-limit', (t) => {
  const o = classify(base({ stdout: { text: `ok("${'x'.repeat(101)}")\n`, cut: false } }));
  t.is(o.error?.code, 'output-limit');
});

test('epoch interrupt and our own kill are both timeout', (t) => {
  t.is(classify(base({ code: 134, stderr: { text: trapDiag('wasm trap: interrupt'), cut: false } })).error?.code, 'timeout');
  t.is(classify(base({ code: null, signal: 'SIGKILL', killed: 'timeout' })).error?.code, 'timeout');
});

test('a refused memory grow is memory-limit; other traps are trap with the cause', (t) => {
  const mem = classify(base({ code: 1, stderr: { text: trapDiag('forcing trap when growing memory to 17039360 bytes'), cut: false } }));
  t.is(mem.error?.code, 'memory-limit');
  const trap = classify(base({ code: 134, stderr: { text: `guest said hi\n${trapDiag('wasm trap: wasm `unreachable` instruction executed')}`, cut: false } }));
  t.is(trap.error?.code, 'trap');
  t.regex(trap.error?.message ?? '', /unreachable/);
  t.is(trap.guestStderr, 'guest said hi\n');
});

test('a guest printing a fake timeout diagnostic on stderr does not change the class', (t) => {
  const forged = 'Error: failed to run main module `x`\n    1: wasm trap: interrupt\n';
  const o = classify(base({ code: 134, stderr: { text: `${forged}${trapDiag('wasm trap: wasm `unreachable` instruction executed')}`, cut: false } }));
  // Only the last diagnostic is wasmtime's (it is printed after the guest has stopped).
  t.is(o.error?.code, 'trap');
  t.is(o.guestStderr, forged);
});

test('abort, signals, exits without a result and unknown failures', (t) => {
  t.is(classify(base({ code: null, signal: 'SIGKILL', killed: 'aborted' })).error?.code, 'aborted');
  t.is(classify(base({ code: null, signal: 'SIGSEGV' })).error?.code, 'crash');
  t.is(classify(base({ code: 0, stdout: { text: 'no result here\n', cut: false } })).error?.code, 'crash');
  t.is(classify(base({ code: 0, stdout: { text: 'x'.repeat(50), cut: true } })).error?.code, 'output-limit');
  t.is(classify(base({ code: 3 })).error?.code, 'crash');
});

test('diagnosticCause picks the innermost cause', (t) => {
  t.is(diagnosticCause(trapDiag('wasm trap: interrupt')), 'wasm trap: interrupt');
});

test('a host call failing the guest (a refused random request) is trap, as on the worker engine', (t) => {
  const diag =
    'Error: failed to run main module `x.wasm`\n\nCaused by:\n    0: error while executing at wasm backtrace:\n    0:   0x4190 - <unknown>!<wasm function 2>\n    1:   0x3990 - <unknown>!random_get\n    1: requested len 1073741824 exceeds limit 1048576\n';
  const o = classify(base({ code: 1, stderr: { text: diag, cut: false } }));
  t.is(o.error?.code, 'trap');
  t.regex(o.error?.message ?? '', /requested len 1073741824 exceeds limit 1048576/);
  t.is(o.guestStderr, '');
});

test('a deadline expiring inside a host call (a blocking FIFO open) is timeout', (t) => {
  const diag = 'Error: timed out after deadline has elapsed\n\nCaused by:\n    wasm trap: interrupt\n\n';
  const o = classify(base({ code: 134, stderr: { text: `guest\n${diag}`, cut: false } }));
  t.is(o.error?.code, 'timeout');
  t.is(o.guestStderr, 'guest\n');
});
