/**
 * A tool's schemas are the plugin's, so checking a value against them is
 * plugin-controlled work on the host. Large values are checked on the
 * validator thread under the call's timeout; these tests hold the event
 * loop to account by counting interval beats while a check runs (a count,
 * never a duration: a blocked loop beats at most once).
 */
import anyTest from 'ava';
import { isAirlockError } from '../../src/errors.ts';
import { INLINE_BYTES, ToolValidators } from '../../src/host/catalog.ts';
import { nestsDeeperThan } from '../../src/host/json-depth.ts';

// One at a time: each test counts the beats of its own check, which a sibling's synchronous set-up would steal.
const test = anyTest.serial;

/** Runs `work` while a 5 ms interval counts how often the event loop came round. */
async function beatsDuring(work: () => void | Promise<void>): Promise<{ beats: number; error: unknown }> {
  let beats = 0;
  const timer = setInterval(() => beats++, 5);
  let error: unknown;
  try {
    await work();
  } catch (err) {
    error = err;
  } finally {
    clearInterval(timer);
  }
  return { beats, error };
}

const tool = (output: Record<string, unknown>) => new ToolValidators({ name: 't', description: 'd', input: { type: 'object' }, output });

test('output validation bomb: a quadratic uniqueItems over a large result ends in timeout while the event loop keeps turning', async (t) => {
  const v = tool({ type: 'object', properties: { items: { type: 'array', uniqueItems: true } } });
  // 200 000 distinct objects: 2·10^10 comparisons, minutes of work for the old inline check.
  const value = { items: Array.from({ length: 200_000 }, (_, i) => ({ a: i })) };
  const { beats, error } = await beatsDuring(() => v.checkOutput('p_t', value, JSON.stringify(value), 1_000));
  t.true(isAirlockError(error, 'timeout'), String(error));
  t.true(beats >= 3, `the event loop came round ${beats} times`);
});

test('ReDoS pattern in an output schema: a large result is refused with invalid-output, the loop turning meanwhile', async (t) => {
  const v = tool({ type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } });
  const bad = { s: `${'a'.repeat(200_000)}!` };
  // Off the loop: the check hands back a promise instead of running here (how long RE2 takes is the machine's business).
  const pending = v.checkOutput('p_t', bad, JSON.stringify(bad), 60_000);
  t.true(pending instanceof Promise, 'a large result is checked off the event loop');
  const error = await Promise.resolve(pending).then(
    () => undefined,
    (err: unknown) => err,
  );
  t.true(isAirlockError(error, 'invalid-output'), String(error));
  if (isAirlockError(error))
    t.deepEqual(
      error.problems.map((p) => p.message),
      ['output.s must match pattern "^(a+)+$"'],
    );
  const good = { s: 'a'.repeat(200_000) };
  await t.notThrowsAsync(async () => v.checkOutput('p_t', good, JSON.stringify(good), 60_000));
});

test('ReDoS pattern in an input schema: small inputs are checked inline on RE2, large ones off the loop; both refuse', async (t) => {
  const v = new ToolValidators({ name: 't', description: 'd', input: { type: 'object', properties: { q: { type: 'string', pattern: '^(\\w+\\s?)*$' } } } });
  const small = { q: `${'a '.repeat(Math.floor(INLINE_BYTES.any / 4))}!` };
  t.true(
    isAirlockError(
      t.throws(() => v.checkInput('p_t', small, JSON.stringify(small), 60_000)),
      'invalid-input',
    ),
  );
  const large = { q: `${'a '.repeat(100_000)}!` };
  const { error } = await beatsDuring(() => v.checkInput('p_t', large, JSON.stringify(large), 60_000));
  t.true(isAirlockError(error, 'invalid-input'), String(error));
});

test('a value nested deeper than the stack under a recursive schema is refused, not a crash', async (t) => {
  const v = new ToolValidators({
    name: 't',
    description: 'd',
    input: { type: 'object', properties: { n: { $ref: '#/$defs/n' } }, $defs: { n: { type: 'array', items: { $ref: '#/$defs/n' } } } },
  });
  const text = `{"n":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
  const { error } = await beatsDuring(() => v.checkInput('p_t', JSON.parse(text), text, 60_000));
  t.true(isAirlockError(error, 'invalid-input'), String(error));
  if (isAirlockError(error)) t.regex(error.message, /nested too deeply/);
});

test('results of the same size with linear-cost schemas are checked inline (no thread hop on the warm path)', (t) => {
  const v = tool({ type: 'object', properties: { sum: { type: 'number' } }, required: ['sum'] });
  // Synchronous: no promise is returned for a small value.
  t.is(v.checkOutput('p_t', { sum: 1 }, '{"sum":1}', 1_000), undefined);
  t.is(v.checkInput('p_t', {}, '{}', 1_000), undefined);
});

test('a result nested deeper than the limit is found by one pass, strings and escapes skipped', (t) => {
  t.true(nestsDeeperThan(`${'['.repeat(1_000_000)}`));
  t.false(nestsDeeperThan(`["${'['.repeat(1_000_000)}", "\\"[["]`));
  t.false(nestsDeeperThan(`${'['.repeat(512)}${']'.repeat(512)}`));
  t.true(nestsDeeperThan(`${'{"a":'.repeat(513)}1${'}'.repeat(513)}`));
});
