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

/** The least time of three runs of `f`, in ms: a busy machine only ever slows a run down. */
function leastMs(f: () => unknown): number {
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    f();
    least = Math.min(least, performance.now() - start);
  }
  return least;
}

test('whatever result-like text a guest printed, finding the result costs about what a plain printed result of the same size does', (t) => {
  // resources.output may be 4 MiB (the default policy's limit): printed as WAVE, up to 6x that (24 MiB), all
  // parsed on the host's event loop. Here no result at all (the guest ended the call with exit(0)), and the
  // guest planted 128 markers, each starting a string that runs to the next one: every start is tried.
  const size = 24 * 1024 * 1024;
  const run = Math.floor(size / 128 / 3);
  const planted = `${`err({code: "${'x\\"'.repeat(run)}`.repeat(64)}${`ok("${'y\\"'.repeat(run)}`.repeat(64)}\n`;
  const plain = `ok("${'a'.repeat(planted.length - 7)}")\n`;
  // Flat strings, as the spawn helper's message gives them.
  const [p, q] = [Buffer.from(planted).toString(), Buffer.from(plain).toString()];
  t.is(splitToolResult(p), undefined);
  t.deepEqual(splitToolResult(q)?.result, { ok: true, value: 'a'.repeat(planted.length - 7) });
  for (let round = 0; round < 3; round++) {
    const ratio =
      leastMs(() => splitToolResult(p)) /
      Math.max(
        leastMs(() => splitToolResult(q)),
        1,
      );
    t.log(`round ${round}: ${ratio.toFixed(1)}x a plain result`);
    if (ratio < 4) return t.pass();
  }
  t.fail('planted markers cost more than 4x a plain result of the same size');
});
