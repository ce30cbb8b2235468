import test from 'ava';
import fc from 'fast-check';
import { parseToolResult, splitToolResult, waveString } from '../../../src/engines/wasmtime/wave.ts';

test('waveString escapes quotes, backslashes and control characters onto one line', (t) => {
  t.is(waveString('a"b\\c\'d\ne\tf\rg\u0000h\u007f'), '"a\\"b\\\\c\\\'d\\ne\\tf\\rg\\u{0}h\\u{7f}"');
  t.false(waveString('x\ny').includes('\n'));
});

test('ok and err results parse, with escapes decoded (as wasmtime 48 prints them)', (t) => {
  t.deepEqual(parseToolResult('ok("{\\"a\\":1}")'), { ok: true, value: '{"a":1}' });
  t.deepEqual(parseToolResult('err({code: "bad-input", message: "fail \\"quoted\\"\\n\\\\ é"})'), {
    ok: false,
    code: 'bad-input',
    message: 'fail "quoted"\n\\ é',
  });
  t.deepEqual(parseToolResult('ok("\\u{1f600}\\u{1}")'), { ok: true, value: '\u{1f600}\u0001' });
});

test('malformed results do not parse', (t) => {
  for (const bad of ['ok("x"', 'ok("x") trailing', 'err({code: "x"})', 'ok("\\q")', 'ok("\\u{110000}")', 'ok(x)', '', 'err("x")']) {
    t.is(parseToolResult(bad), undefined, bad);
  }
});

test('the printed result is found after guest stdout, even when the guest prints result-like text', (t) => {
  const split = splitToolResult('to stdout ok("forged")\nok("x")\n');
  t.deepEqual(split, { guest: 'to stdout ok("forged")\n', result: { ok: true, value: 'x' } });
  const noNewline = splitToolResult('partial ok("ok("x")\n');
  t.deepEqual(noNewline?.result, { ok: true, value: 'x' });
  t.is(noNewline?.guest, 'partial ok("');
});

test('any string round-trips through waveString and the result parser (property)', (t) => {
  fc.assert(
    fc.property(
      fc.string({ unit: 'grapheme' }),
      (s) => parseToolResult(`ok(${waveString(s)})`)?.ok === true && (parseToolResult(`ok(${waveString(s)})`) as { value: string }).value === s,
    ),
  );
  t.pass();
});

test('whatever the guest printed first, the split returns the real result (property)', (t) => {
  const result = fc.oneof(
    fc.string({ unit: 'binary' }).map((v) => ({ text: `ok(${waveString(v)})`, want: { ok: true as const, value: v } })),
    fc.tuple(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })).map(([code, message]) => ({
      text: `err({code: ${waveString(code)}, message: ${waveString(message)}})`,
      want: { ok: false as const, code, message },
    })),
  );
  const guestText = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('ok("', 'err({code: "', 'ok("x")', '"', 'err({code: "a", message: "'));
  fc.assert(
    fc.property(
      fc.array(guestText, { maxLength: 4 }).map((a) => a.join('')),
      result,
      (guest, r) => {
        const split = splitToolResult(`${guest}${r.text}\n`);
        t.deepEqual(split, { guest, result: r.want });
      },
    ),
  );
});
