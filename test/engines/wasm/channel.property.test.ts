/**
 * Property tests of the worker channel's framing (src/engines/wasm/channel.ts):
 * both ends in this thread over one SharedArrayBuffer, so only the encoding of
 * requests and responses is under test, not the waking.
 */
import test from 'ava';
import fc from 'fast-check';
import { Channel, ChannelFullError } from '../../../src/engines/wasm/channel.ts';
import type { Problem } from '../../../src/errors.ts';
import type { WasmCallResponse } from '../../../src/protocol.ts';
import { fuzz } from '../../helpers/fuzz.ts';

/** Text of any kind, lone surrogates included (stdout decoded from guest bytes never has them, but a string may). */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 16 }),
  fc.string({ maxLength: 3000 }),
  fc.nat({ max: 200_000 }).map((n) => 'é'.repeat(n)),
);
const response: fc.Arbitrary<WasmCallResponse> = fc.oneof(
  fc.record({ kind: fc.constant('ok' as const), output: text, stdout: text, stderr: text, truncated: fc.boolean() }),
  fc.record({
    kind: fc.constant('error' as const),
    error: fc.record({
      code: fc.constantFrom('trap' as const, 'plugin-error' as const, 'timeout' as const),
      message: text,
      problems: fc.constant([] as Problem[]),
      details: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
    }),
    stdout: text,
    stderr: text,
    truncated: fc.boolean(),
  }),
);
const message = fc.oneof(fc.record({ request: fc.record({ tool: text, input: text }) }), fc.record({ response }));

/** What a string is once it has crossed as UTF-8: lone surrogates become U+FFFD. */
const wellFormed = (s: string): string => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

test('any sequence of requests and responses, growing and shrinking, reads back exactly what was written (as UTF-8 text)', (t) => {
  let grown = 0;
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 8 }), (messages) => {
        const ch = Channel.create(4 << 20);
        for (const m of messages) {
          if ('request' in m) {
            ch.sendRequest(m.request);
            const got = ch.readRequest();
            if (got.tool !== wellFormed(m.request.tool) || got.input !== wellFormed(m.request.input))
              throw new Error(`request came back as ${JSON.stringify(got).slice(0, 200)}`);
          } else {
            ch.sendResponse(m.response);
            const got = ch.readResponse();
            const want = JSON.parse(JSON.stringify(m.response, (_k, v: unknown) => (typeof v === 'string' ? wellFormed(v) : v))) as WasmCallResponse;
            if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`response came back as ${JSON.stringify(got).slice(0, 200)}`);
          }
        }
        if (ch.sab.byteLength > 64 * 1024 + 32) grown++;
      }),
      fuzz(200),
    ),
  );
  t.true(grown > 5, `${grown} runs grew the channel`);
});

test('a message too large for the channel is ChannelFullError, and the channel still carries the next message', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.nat({ max: 300_000 }), fc.constantFrom('a', 'é', '😀'), (n, c) => {
        const ch = Channel.create(64 * 1024);
        const big = c.repeat(n);
        try {
          ch.sendRequest({ tool: 't', input: big });
          const got = ch.readRequest();
          if (got.input !== big) throw new Error(`${n} × ${c} came back as ${got.input.length} units`);
        } catch (e) {
          if (!(e instanceof ChannelFullError)) throw e;
          // Refused only when the worst case (3 bytes per UTF-16 unit) is over the limit.
          if ((1 + big.length) * 3 <= 64 * 1024) throw new Error(`${n} × ${c} refused though it fits`);
        }
        ch.sendRequest({ tool: 'next', input: '{}' });
        const next = ch.readRequest();
        if (next.tool !== 'next' || next.input !== '{}') throw new Error(`the next request came back as ${JSON.stringify(next)}`);
      }),
      fuzz(100),
    ),
  );
});
