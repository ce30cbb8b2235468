/** Property test of the container message validator (src/protocol.ts): whatever a line holds, a typed message or nothing. */
import test from 'ava';
import fc from 'fast-check';
import { parseContainerMessage, type ContainerMessage } from '../src/protocol.ts';
import { fuzz } from './helpers/fuzz.ts';

/** Objects near the real messages: the right keys with values of any type, and extra keys. */
const field = fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constantFrom('ready', 'fatal', 'result', 'node', 'python', 'airlock', true, false, 1, -1, 1.5));
const near = fc.record(
  {
    type: fc.oneof(fc.constantFrom('ready', 'fatal', 'result'), field),
    id: field,
    ok: field,
    output: field,
    runtime: field,
    version: field,
    error: fc.oneof(field, fc.record({ code: field, message: field, origin: field, token: field }, { requiredKeys: [] })),
    stdout: field,
    stderr: field,
    truncated: field,
  },
  { requiredKeys: [] },
);

function wellTyped(m: ContainerMessage): boolean {
  const err = (e: unknown) => e !== null && typeof e === 'object' && typeof (e as { code?: unknown }).code === 'string' && typeof (e as { message?: unknown }).message === 'string';
  const logs = (x: Record<string, unknown>) => typeof x.stdout === 'string' && typeof x.stderr === 'string' && typeof x.truncated === 'boolean';
  switch (m.type) {
    case 'ready':
      return (m.runtime === 'node' || m.runtime === 'python') && typeof m.version === 'string';
    case 'fatal':
      return err(m.error);
    case 'result':
      return typeof m.id === 'number' && logs(m as unknown as Record<string, unknown>) && (m.ok ? typeof m.output === 'string' : err(m.error));
  }
}

test('any line is either refused or a well-typed message that reads back the same when written again', (t) => {
  let accepted = 0;
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.oneof(near.map((o) => JSON.stringify(o)), fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ unit: 'binary' })), (line) => {
        const m = parseContainerMessage(line);
        if (m === undefined) return;
        accepted++;
        if (!wellTyped(m)) throw new Error(`${line} gave the ill-typed ${JSON.stringify(m)}`);
        if (JSON.stringify(parseContainerMessage(JSON.stringify(m))) !== JSON.stringify(m)) throw new Error(`${JSON.stringify(m)} does not read back the same`);
      }),
      fuzz(3000),
    ),
  );
  t.true(accepted > 30, `${accepted} lines accepted`);
});
