/**
 * The spawn helper (src/spawn/): processes are forked by a small helper
 * process, never by the host; output comes back bounded; a helper that dies
 * fails its calls typed and is replaced; the helper ends with its host and
 * keeps the host alive only while a process runs. Each test has its own
 * helper (killing one must not touch another test's processes). Process
 * ends are observed through the helper's events and /proc, never timers.
 */
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isAirlockError } from '../../src/errors.ts';
import type { SpawnRequest } from '../../src/protocol.ts';
import { SpawnHelper } from '../../src/spawn/client.ts';
import { procStat as stat, waitEnded } from '../helpers/proc.ts';

const CLIENT = fileURLToPath(new URL('../../src/spawn/client.ts', import.meta.url));
const BOUNDS = { stdout: { head: 1024, tail: 1024 }, stderr: { head: 1024, tail: 1024 }, maxStreamBytes: 1 << 20 };
const request = (file: string, args: string[] = []): SpawnRequest => ({ file, args, env: {}, cwd: '/', ...BOUNDS });

function started(helper: SpawnHelper): Promise<{ pid: number; helperPid: number }> {
  return new Promise((resolve) => helper.once('started', (pid, helperPid) => resolve({ pid, helperPid })));
}

test('a process is forked by the helper, not by the host, and a kill through the helper ends it', async (t) => {
  const helper = new SpawnHelper();
  t.teardown(() => helper.close());
  const up = started(helper);
  const p = helper.spawn(request('/bin/sleep', ['1000']));
  const { pid, helperPid } = await up;
  t.is(p.pid, pid);
  t.is(helper.pid, helperPid);
  t.not(helperPid, process.pid);
  t.is(stat(pid)?.ppid, helperPid);
  t.is(stat(helperPid)?.ppid, process.pid);
  p.kill();
  const exit = await p.exit;
  t.is(exit.signal, 'SIGKILL');
  t.is(exit.code, null);
  // The helper reaped it before answering.
  t.is(stat(pid), undefined);
});

test('stdout and stderr come back as head and tail; a stream past maxStreamBytes has the process killed (overflow)', async (t) => {
  const helper = new SpawnHelper();
  t.teardown(() => helper.close());
  const script = 'printf "HEAD"; head -c 100000 /dev/zero | tr "\\0" x; printf "TAIL"; printf "e" >&2; exit 3';
  const exit = await helper.spawn({ ...request('/bin/sh', ['-c', script]), stdout: { head: 4, tail: 6 } }).exit;
  t.is(exit.code, 3);
  t.deepEqual(exit.stdout, { text: 'HEADxxTAIL', cut: true });
  t.deepEqual(exit.stderr, { text: 'e', cut: false });
  t.false(exit.overflow);
  const flood = await helper.spawn({ ...request('/usr/bin/yes'), maxStreamBytes: 1 << 16 }).exit;
  t.true(flood.overflow);
  t.is(flood.signal, 'SIGKILL');
  t.true(flood.stdout.cut);
});

test('the most output a grant lets a call keep (4 MiB of result as WAVE, plus logs) comes back whole, for several calls at once', async (t) => {
  const helper = new SpawnHelper();
  t.teardown(() => helper.close());
  // resources.output at the policy's largest (4 MiB) keeps a 24 MiB tail of stdout (see src/engines/wasmtime/process.ts);
  // the policy's default concurrency (4) runs that many at once, and plugins share the helper.
  const tail = 4 * 2 ** 20 * 6 + 4096;
  const size = tail + 2 ** 20;
  const one = () =>
    helper.spawn({
      ...request('/bin/sh', ['-c', `head -c ${size} /dev/zero | tr "\\0" x`]),
      stdout: { head: 2 ** 20, tail },
      maxStreamBytes: size * 2,
    }).exit;
  const exits = await Promise.all([one(), one(), one(), one()]);
  for (const exit of exits) {
    t.is(exit.code, 0);
    t.false(exit.stdout.cut);
    t.is(exit.stdout.text.length, size);
  }
});

test('a file that cannot be started, or an argument no process can take, fails that spawn only: the helper keeps serving', async (t) => {
  const helper = new SpawnHelper();
  t.teardown(() => helper.close());
  const missing = await helper.spawn(request('/nonexistent/binary')).exit;
  t.regex(missing.error ?? '', /ENOENT/);
  t.is(missing.code, null);
  const first = helper.pid;
  const nul = await helper.spawn(request('/bin/echo', ['a\u0000b'])).exit;
  t.regex(nul.error ?? '', /null bytes/);
  const ok = await helper.spawn(request('/bin/echo', ['fine'])).exit;
  t.is(ok.stdout.text, 'fine\n');
  t.is(helper.pid, first);
});

test('a helper that dies mid-call fails the call (crash), its orphaned process is killed, and the next spawn starts a new helper', async (t) => {
  const helper = new SpawnHelper();
  t.teardown(() => helper.close());
  const up = started(helper);
  const p = helper.spawn(request('/bin/sleep', ['1000']));
  const { pid, helperPid } = await up;
  process.kill(helperPid, 'SIGKILL');
  const e = await p.exit.then(
    () => undefined,
    (err: unknown) => err,
  );
  t.true(isAirlockError(e) && e.code === 'crash', String(e));
  t.regex(String((e as Error).message), /spawn helper .* ended \(SIGKILL\)/);
  t.true(await waitEnded(pid), `process ${pid} outlived its helper`);
  const next = await helper.spawn(request('/bin/echo', ['again'])).exit;
  t.is(next.stdout.text, 'again\n');
  t.not(helper.pid, helperPid);
});

/** A host process of its own: starts `/bin/sleep` through a helper, prints both pids, then waits. */
const HOST = `
import { SpawnHelper } from ${JSON.stringify(CLIENT)};
const helper = new SpawnHelper();
helper.once('started', (pid, helperPid) => process.stdout.write(JSON.stringify({ pid, helperPid }) + '\\n'));
await helper.spawn({ file: '/bin/sleep', args: ['1000'], env: {}, cwd: '/', stdout: { head: 1, tail: 1 }, stderr: { head: 1, tail: 1 }, maxStreamBytes: 1 }).exit;
`;

test('when its host dies the helper kills what it started and exits', async (t) => {
  const host = spawn(process.execPath, ['--input-type=module', '-e', HOST], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => host.kill('SIGKILL'));
  const line = await new Promise<string>((resolve) => {
    let text = '';
    host.stdout.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes('\n')) resolve(text);
    });
  });
  const { pid, helperPid } = JSON.parse(line) as { pid: number; helperPid: number };
  t.is(stat(pid)?.ppid, helperPid);
  const gone = new Promise((resolve) => host.once('exit', resolve));
  host.kill('SIGKILL');
  await gone;
  t.true(await waitEnded(helperPid), `helper ${helperPid} outlived its host`);
  t.true(await waitEnded(pid), `process ${pid} outlived its helper's host`);
});

test('the helper keeps its host alive while a process runs, and not once nothing runs', async (t) => {
  // The host awaits a process that prints after a while: had the helper let go of the event loop, the host would end first.
  const script = `
import { SpawnHelper } from ${JSON.stringify(CLIENT)};
const exit = await new SpawnHelper().spawn({ file: '/bin/sh', args: ['-c', 'sleep 1; echo done'], env: {}, cwd: '/', stdout: { head: 64, tail: 64 }, stderr: { head: 64, tail: 64 }, maxStreamBytes: 1024 }).exit;
process.stdout.write(exit.stdout.text);
`;
  // Ends by itself once idle (no process.exit): the bound only stops a hang from hanging the suite.
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 }, (err, stdout) => (err === null ? resolve(stdout) : reject(err))),
  );
  t.is(out, 'done\n');
});
