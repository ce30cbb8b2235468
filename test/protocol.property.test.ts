/** Property test of the container message validator (src/protocol.ts): whatever a line holds, a typed message or nothing. */
import test from 'ava';
import fc from 'fast-check';
import { parseContainerMessage, type ContainerMessage } from '../src/protocol.ts';
import { fuzz } from './helpers/fuzz.ts';

/** Real messages, then one key dropped, or set to a value of any type, or an extra key added. */
const text = fc.string({ maxLength: 8 });
const logs = { stdout: text, stderr: text, truncated: fc.boolean() };
const error = fc.record({ code: text, message: text, origin: fc.constant('airlock'), token: text }, { requiredKeys: ['code', 'message'] });
const real = fc.oneof(
  fc.record({ type: fc.constant('ready'), runtime: fc.constantFrom('node', 'python'), version: text }),
  fc.record({ type: fc.constant('fatal'), error, ...logs }, { requiredKeys: ['type', 'error'] }),
  fc.record({ type: fc.constant('result'), id: fc.integer(), ok: fc.constant(true), output: text, ...logs }),
  fc.record({ type: fc.constant('result'), id: fc.integer(), ok: fc.constant(false), error, ...logs }),
);
const near = fc.tuple(real, fc.constantFrom('keep', 'drop', 'set', 'add'), fc.nat(), fc.jsonValue({ maxDepth: 1 })).map(([m, how, pick, value]) => {
  const o: Record<string, unknown> = { ...m };
  const key = Object.keys(o)[pick % Object.keys(o).length]!;
  if (how === 'drop') delete o[key];
  else if (how === 'set') o[key] = value;
  else if (how === 'add') o.extra = value;
  return o;
});

function wellTyped(m: ContainerMessage): boolean {
  const err = (e: unknown) =>
    e !== null && typeof e === 'object' && typeof (e as { code?: unknown }).code === 'string' && typeof (e as { message?: unknown }).message === 'string';
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
      fc.property(
        fc.oneof(
          near.map((o) => JSON.stringify(o)),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.string({ unit: 'binary' }),
        ),
        (line) => {
          const m = parseContainerMessage(line);
          if (m === undefined) return;
          accepted++;
          if (!wellTyped(m)) throw new Error(`${line} gave the ill-typed ${JSON.stringify(m)}`);
          if (JSON.stringify(parseContainerMessage(JSON.stringify(m))) !== JSON.stringify(m))
            throw new Error(`${JSON.stringify(m)} does not read back the same`);
        },
      ),
      fuzz(3000),
    ),
  );
  t.true(accepted > 30, `${accepted} lines accepted`);
});
