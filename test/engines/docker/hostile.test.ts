/**
 * Hostile plugins in Docker: each is contained and reported with the right
 * error code, and a fresh container serves the next call.
 */
import test from 'ava';
import { join } from 'node:path';
import { isAirlockError, type AirlockError } from '../../../src/errors.ts';
import { DOCKER, FIXTURES, engine, grantsFor } from './helpers.ts';
import { forgeriesStayThePlugins } from '../../helpers/forge.ts';

const t = DOCKER ? test : test.skip;
const docker = engine();
test.after.always(() => docker.close());

function pluginCode(e: unknown): unknown {
  return isAirlockError(e) ? e.details.pluginCode : undefined;
}

t('fork bomb: the pids limit holds it, the timeout ends the call, a fresh container follows', async (t) => {
  const p = await docker.load(grantsFor('python-forkbomb'));
  const err = await t.throwsAsync(p.call('bomb', '{}'));
  t.true(isAirlockError(err, 'timeout'), String(err));
  t.is((await p.call('ping', '{}')).output, '"pong"');
  await p.close();
});

t('memory bomb: the kernel kills it at the memory limit, reported as memory-limit', async (t) => {
  const p = await docker.load(grantsFor('node-membomb'));
  const err = await t.throwsAsync<AirlockError>(p.call('bomb', '{}'));
  t.true(isAirlockError(err, 'memory-limit'), String(err));
  t.is(err?.details.oomKilled, true);
  t.is((await p.call('ping', '{}')).output, '"pong"');
  await p.close();
});

t('memory bomb in python: memory-limit as well', async (t) => {
  const p = await docker.load(grantsFor('python-membomb'));
  const err = await t.throwsAsync<AirlockError>(p.call('bomb', '{}'));
  t.true(isAirlockError(err, 'memory-limit'), String(err));
  t.is((await p.call('ping', '{}')).output, '"pong"');
  await p.close();
});

t('writes outside the grants fail: read-only root, own code, read-only grant; /tmp is noexec', async (t) => {
  const p = await docker.load(grantsFor('python-fs-escape', { filesystem: [{ path: join(FIXTURES, 'python-fs-escape/ro'), access: 'read' }] }));
  for (const path of ['/etc/evil', '/airlock/plugin/main.py', '/airlock/host.py', '/ro/keep.txt', '/evil']) {
    const err = await t.throwsAsync(p.call('write', JSON.stringify({ path })));
    t.true(isAirlockError(err, 'plugin-error'), `${path}: ${String(err)}`);
    t.true(['EROFS', 'EACCES'].includes(pluginCode(err) as string), `${path}: ${String(pluginCode(err))}`);
  }
  // /tmp is writable but not executable.
  t.is((await p.call('write', JSON.stringify({ path: '/tmp/scratch' }))).output, '"written"');
  const exec = await t.throwsAsync(p.call('exec_tmp', '{}'));
  t.is(pluginCode(exec), 'EACCES');
  await p.close();
});

t('/etc/shadow is unreadable; the plugin runs as uid 10001 with no capabilities and cannot setuid', async (t) => {
  const p = await docker.load(grantsFor('python-shadow'));
  const err = await t.throwsAsync(p.call('shadow', '{}'));
  t.true(isAirlockError(err, 'plugin-error'));
  t.is(pluginCode(err), 'EACCES');
  const who = JSON.parse((await p.call('whoami', '{}')).output) as { uid: number; gid: number; status: Record<string, string> };
  t.is(who.uid, 10001);
  t.is(who.gid, 10001);
  for (const cap of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) t.is(who.status[cap], '0000000000000000', cap);
  t.is(who.status.NoNewPrivs, '1');
  t.is(who.status.Seccomp, '2', 'the default seccomp profile is in force');
  t.is(pluginCode(await t.throwsAsync(p.call('setuid', '{}'))), 'EPERM');
  await p.close();
});

t('no network grant: no interface but loopback, direct connections fail', async (t) => {
  const p = await docker.load(grantsFor('node-net'));
  // The docker bridge's gateway: our own host, the one private address these tests may address.
  const err = await t.throwsAsync(p.call('tcp', JSON.stringify({ host: '172.17.0.1', port: 80 })));
  t.true(isAirlockError(err, 'plugin-error'));
  t.is(pluginCode(err), 'ENETUNREACH');
  await p.close();
});

t('output flood: prints are cut at the log limit, an oversized result is output-limit', async (t) => {
  const p = await docker.load(grantsFor('node-flood'));
  const r = await p.call('print', '{}');
  t.is(r.output, '"ok"');
  t.true(r.logs.truncated);
  t.true(Buffer.byteLength(r.logs.stdout) + Buffer.byteLength(r.logs.stderr) <= 16 * 1024);
  const big = await t.throwsAsync(p.call('big', '{}'));
  t.true(isAirlockError(big, 'output-limit'), String(big));
  // Raw writes to fds 1 and 2 never reach the protocol stream.
  await p.call('raw', '{}').catch(() => undefined);
  t.is((await p.call('print', '{}')).output, '"ok"');
  await p.close();
});

t('exit mid-call: crash with the call logs, then a fresh container', async (t) => {
  const p = await docker.load(grantsFor('python-exit'));
  const err = await t.throwsAsync<AirlockError>(p.call('exit', '{}'));
  t.true(isAirlockError(err, 'crash'), String(err));
  t.deepEqual((err?.details.logs as { stdout: string } | undefined)?.stdout, 'about to exit\n');
  t.is((await p.call('ping', '{}')).output, '"pong"');
  const hard = await t.throwsAsync<AirlockError>(p.call('hard_exit', '{}'));
  t.true(isAirlockError(hard, 'crash'), String(hard));
  t.is(hard?.details.exitCode, 4);
  t.is((await p.call('ping', '{}')).output, '"pong"');
  await p.close();
});

for (const name of ['node-forge', 'python-forge']) {
  t(`${name}: host errors forged on the protocol stream are the plugin's errors; the container is kept`, async (t) => {
    const p = await docker.load(grantsFor(name));
    await forgeriesStayThePlugins(t, p);
    await p.close();
  });
}

t('an out-of-memory message on stderr is not a memory-limit; only the kernel OOM kill is', async (t) => {
  const p = await docker.load(grantsFor('node-forge'));
  const err = await t.throwsAsync<AirlockError>(p.call('fake_oom', '{}'));
  t.true(isAirlockError(err, 'crash'), String(err));
  t.is(err?.details.oomKilled, false);
  t.is((await p.call('ping', '{}')).output, '"pong"');
  await p.close();
});

t('MemoryError raised by a python plugin is its own error, not memory-limit; the next call is served', async (t) => {
  const p = await docker.load(grantsFor('python-forge'));
  const err = await t.throwsAsync(p.call('memory_error', '{}'));
  t.true(isAirlockError(err, 'plugin-error'), String(err));
  t.is(pluginCode(err), 'MemoryError');
  t.is((await p.call('ping', '{}')).output, '"pong"');
  await p.close();
});

t('a protocol line past the engine bound is output-limit and the container is replaced', async (t) => {
  // Small limits give a small bound: 6 x (output + logs) + 64 KiB = 76 KiB.
  const p = await docker.load(grantsFor('node-forge', undefined, { resources: { ...grantsFor('node-forge').resources, outputBytes: 1024, logBytes: 1024 } }));
  for (const bytes of [80 * 1024, 4 * 1024 * 1024]) {
    const err = await t.throwsAsync(p.call('long_line', JSON.stringify({ bytes })));
    t.true(isAirlockError(err, 'output-limit'), `${bytes}: ${String(err)}`);
    t.is((await p.call('ping', '{}')).output, '"pong"');
  }
  await p.close();
});
