/** The standalone entry (main.ts), run the way a container runs it: from a bare folder with only its mounts. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import test from 'ava';
import { egressRuntimeFiles } from '../../src/engines/docker/egress-files.ts';
import { connect, echoServer, roundTrip } from './helpers.ts';
import type { EgressProxy } from '../../src/egress/index.ts';

/** Copies the runtime mounts into a temporary root, as the container would see them, nothing else. */
async function containerLayout(t: import('ava').ExecutionContext): Promise<{ root: string; main: string }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'airlock-egress-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const rt = egressRuntimeFiles('/opt/airlock-egress');
  for (const m of rt.mounts) await cp(m.hostPath, path.join(root, m.containerPath), { recursive: true });
  return { root, main: path.join(root, rt.command[1]!) };
}

test('main runs from a bare folder, logs JSON lines for listening and decisions, and closes on SIGTERM', async (t) => {
  const echo = await echoServer(t);
  const { root, main } = await containerLayout(t);
  const config = { allow: [{ host: '127.0.0.1', wildcard: false, port: echo.port }], listen: { host: '127.0.0.1', port: 0 } };
  const child = spawn(process.execPath, [main], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', AIRLOCK_EGRESS_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await lines.next();
    if (r.done === true) throw new Error(`main.ts ended its output; stderr: ${stderr}`);
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  const listening = await next();
  t.like(listening, { event: 'listening', host: '127.0.0.1', rules: 1 });
  t.regex(String(listening.time), /^\d{4}-\d\d-\d\dT/);
  const port = listening.port as number;
  const proxy: EgressProxy = { address: { host: '127.0.0.1', port }, url: `http://127.0.0.1:${port}`, close: async () => {} };

  const ok = await connect(proxy, `127.0.0.1:${echo.port}`);
  t.is(ok.status, 200);
  t.is(await roundTrip(ok.socket, 'through main'), 'through main');
  t.like(await next(), { event: 'decision', decision: 'allowed', kind: 'connect', host: '127.0.0.1', port: echo.port, address: '127.0.0.1' });
  const no = await connect(proxy, `example.com:443`);
  t.is(no.status, 403);
  t.like(await next(), { event: 'decision', decision: 'refused', code: 'host-not-allowed', host: 'example.com', port: 443 });

  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  t.like(await next(), { event: 'closed', signal: 'SIGTERM' });
  t.deepEqual(await exited, [0, null]);
  t.is(stderr, '');
});

test('main reads the config from its first argument and exits 2 on a bad one', async (t) => {
  const { root, main } = await containerLayout(t);
  const run = async (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> => {
    const child = spawn(process.execPath, [main, ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stderr };
  };
  const bad = await run(['{"allow":[{"host":"*.x","wildcard":false}]}']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^airlock egress proxy: argument 1\.allow\[0\]\.host: "\*\.x" is neither a host name nor an IP address/);
  const none = await run([]);
  t.is(none.code, 2);
  t.regex(none.stderr, /no config; pass the JSON as the first argument or in AIRLOCK_EGRESS_CONFIG/);
  const envBad = await run([], { AIRLOCK_EGRESS_CONFIG: '{"allow":[],"listen":{"host":"127.0.0.1","port":70000}}' });
  t.is(envBad.code, 2);
  t.regex(envBad.stderr, /AIRLOCK_EGRESS_CONFIG\.listen\.port/);
});
