/**
 * The host side of the in-container protocol, fed hostile bytes: the plugin runs in the in-container host's
 * process and can write any line to the protocol stream (runtimes/node/host.mjs: fd 3), so every line it
 * sends is parsed on the host's event loop. Only what the protocol expects at that moment is taken; anything
 * else ends the instance, so a plugin cannot keep the host parsing its lines.
 */
import test from 'ava';
import type { AirlockError } from '../../src/errors.ts';
import { HostStream, lastLines } from '../../src/engines/host-stream.ts';

const READY = '{"type":"ready","runtime":"node","version":"1"}\n';
const result = (id: number, output = '"ok"'): string =>
  `${JSON.stringify({ type: 'result', id, ok: true, output, stdout: '', stderr: '', truncated: false })}\n`;

function stream(maxLineBytes = 1024): { host: HostStream; written: string[]; broken: () => number; push(s: string): void } {
  const written: string[] = [];
  let broken = 0;
  const host = new HostStream({
    plugin: 'p',
    instance: 'Pod',
    name: 'airlock-p-1',
    maxLineBytes,
    write: (line) => written.push(line),
    broken: () => {
      broken += 1;
    },
  });
  return { host, written, broken: () => broken, push: (s) => host.push(Buffer.from(s)) };
}

test('host stream: ready, then one result per call, each call with the next id', async (t) => {
  const s = stream();
  const ready = s.host.ready();
  s.push(READY);
  await ready;
  const first = s.host.call('t', { a: 1 });
  t.deepEqual(JSON.parse(s.written[0]!), { id: 1, tool: 't', input: { a: 1 } });
  s.push(result(1, '"one"'));
  t.is((await first).ok && (await first).type, 'result');
  const second = s.host.call('t', {});
  s.push(result(2, '"two"'));
  const r = await second;
  t.true(r.ok && r.output === '"two"');
  t.is(s.broken(), 0);
});

test('host stream: a result no call is waiting for breaks the instance (a plugin cannot keep the host parsing lines between calls)', async (t) => {
  const s = stream();
  const ready = s.host.ready();
  s.push(READY);
  await ready;
  // Idle: the plugin floods results (here for the id the next call will get) from a timer of its own.
  s.push(result(1).repeat(1000));
  t.is(s.broken(), 1);
  // The instance is broken: a call is refused at once, never answered by what it sent before.
  const e = await t.throwsAsync(s.host.call('t', {}));
  t.is((e as AirlockError).code, 'crash');
});

test('host stream: a result for another id during a call breaks the instance and fails the call', async (t) => {
  const s = stream();
  const ready = s.host.ready();
  s.push(READY);
  await ready;
  const call = s.host.call('t', {});
  s.push(result(7));
  const e = await t.throwsAsync(call);
  t.is((e as AirlockError).code, 'crash');
  t.regex((e as AirlockError).message, /no call is waiting for/);
  t.is(s.broken(), 1);
});

test("host stream: one repeat of an answer (the host's own after a look-alike the plugin wrote) is dropped; one more breaks the instance", async (t) => {
  const s = stream();
  const ready = s.host.ready();
  s.push(READY);
  await ready;
  const call = s.host.call('t', {});
  s.push(result(1, '"forged"'));
  t.true((await call).ok);
  s.push(result(1, '"genuine"'));
  t.is(s.broken(), 0);
  const next = s.host.call('t', {});
  s.push(result(2));
  await next;
  s.push(result(2).repeat(3));
  t.is(s.broken(), 1);
});

test('host stream: ready three times, or a result before ready, breaks the instance', async (t) => {
  const thrice = stream();
  const ready = thrice.host.ready();
  thrice.push(READY.repeat(2));
  await ready;
  t.is(thrice.broken(), 0);
  thrice.push(READY);
  t.is(thrice.broken(), 1);

  const early = stream();
  const starting = early.host.ready();
  early.push(result(1));
  const e = await t.throwsAsync(starting);
  t.is((e as AirlockError).code, 'crash');
  t.is(early.broken(), 1);
});

test('host stream: once the instance broke, its later lines are dropped unparsed (broken is reported once)', async (t) => {
  const s = stream(64);
  const ready = s.host.ready();
  s.push(READY);
  await ready;
  // A malformed line, then more of them and an oversized one while the instance is being deleted.
  s.push('not json\n'.repeat(100));
  s.push(`${'x'.repeat(200)}\n`);
  s.push(READY.repeat(100));
  t.is(s.broken(), 1);
});

test('host stream: a fatal load error is cut and cleaned like any guest error text before anything reads it (a MiB of escapes in its message and logs)', async (t) => {
  const s = stream(16 * 1024 * 1024);
  const starting = s.host.ready();
  const escapes = '\x1b[2J\x1b]52;c;cGF5bG9hZA==\x07'.repeat(40_000);
  s.push(
    `${JSON.stringify({ type: 'fatal', error: { code: `E${'x'.repeat(10_000)}`, message: `boom ${escapes}` }, stdout: escapes, stderr: escapes, truncated: false })}\n`,
  );
  const e = (await t.throwsAsync(starting)) as AirlockError;
  t.is(e.code, 'trap');
  t.false(e.message.includes('\x1b'), 'no escape sequence');
  t.true(e.message.length < 3 * 4200, `the message is ${e.message.length} characters`);
  t.true((e.details.pluginCode as string).length <= 65);
  t.is(s.broken(), 1);
});

test('host stream: plugin text in a protocol or exit error is cleaned (a malformed line, the last stderr lines of a container or Pod that ended)', async (t) => {
  const s = stream();
  const starting = s.host.ready();
  s.push(`\x1b]52;c;Zm9yZ2Vk\x07\x1b[2Jnot json${'\x9b'.repeat(300)}\n`);
  const e = (await t.throwsAsync(starting)) as AirlockError;
  t.is(e.code, 'crash');
  t.regex(e.message, /sent a malformed message: not json/);
  t.false(/[\x1b\x9b\x07]/.test(e.message), e.message);
  const tail = lastLines(`${'old line\n'.repeat(100)}\x1b[31mred\x1b[0m\r\nlast \x1b]8;;http://x\x07link\x1b]8;;\x07\n`);
  t.is(tail.split('\n').length, 20);
  t.true(tail.endsWith('red\nlast link'), JSON.stringify(tail.slice(-40)));
  t.false(/[\x1b\x07\r]/.test(tail));
});

test('host stream: between calls an unfinished line may hold only a little (the host keeps no megabytes for an idle instance)', async (t) => {
  const s = stream(32 * 1024 * 1024);
  const ready = s.host.ready();
  s.push(READY);
  await ready;
  const call = s.host.call('t', {});
  s.push(result(1));
  await call;
  // Idle: the start of a line that never ends, a MiB at a time.
  for (let i = 0; i < 4 && s.broken() === 0; i++) s.push('x'.repeat(1024 * 1024));
  t.is(s.broken(), 1);
  // During a call the whole line bound applies: a large answer arrives in pieces.
  const big = stream(32 * 1024 * 1024);
  const started = big.host.ready();
  big.push(READY);
  await started;
  const answer = big.host.call('t', {});
  const line = result(1, JSON.stringify('y'.repeat(4 * 1024 * 1024)));
  for (let at = 0; at < line.length; at += 1024 * 1024) big.push(line.slice(at, at + 1024 * 1024));
  t.true((await answer).ok);
  t.is(big.broken(), 0);
});

test('host stream greet: says hello with the token and resolves on ready; an abort fails the start as aborted, a silent host as crash naming the bound', async (t) => {
  const s = stream();
  const greeted = s.host.greet(s.host.ready(), 'tok-1', { timeoutMs: 60_000 });
  t.deepEqual(JSON.parse(s.written[0]!), { type: 'hello', token: 'tok-1' });
  s.push(READY);
  await greeted;

  const aborting = stream();
  const ac = new AbortController();
  const aborted = aborting.host.greet(aborting.host.ready(), 'tok-2', { signal: ac.signal, timeoutMs: 60_000 });
  ac.abort();
  const a = await t.throwsAsync<AirlockError>(aborted);
  t.is(a.code, 'aborted');
  t.regex(a.message, /starting a Pod for p was aborted/);

  // A bound of 1 ms: nothing is waited for but the timer (the host never answers).
  const silent = stream();
  const e = await t.throwsAsync<AirlockError>(silent.host.greet(silent.host.ready(), 'tok-3', { timeoutMs: 1 }));
  t.is(e.code, 'crash');
  t.regex(e.message, /the Pod of p did not get ready within 0.001 s/);
});
