/**
 * The Docker daemon really stopped and started again during a run: calls in
 * flight and calls during the outage get typed errors, none hangs, the next
 * call after the daemon is back succeeds, and no container is left behind.
 *
 * Stopping a daemon breaks whatever else uses it (the parallel ava run
 * included) and must never happen on someone's machine unasked, so this is
 * not an ava test: `npm test` runs it after ava, serially, and it does
 * anything only with consent, AIRLOCK_TEST_RESTART_DOCKERD=1 (`.ci/run` sets
 * it; it started dockerd itself through .ci/setup-docker.sh). Otherwise it
 * says loudly that it skipped.
 *
 *   stop:  SIGTERM to the pid in AIRLOCK_DOCKERD_PIDFILE (default /var/run/docker.pid), then wait for it to exit
 *   start: AIRLOCK_DOCKERD_START (default .ci/setup-docker.sh, which starts dockerd when none answers and waits)
 *
 * The daemon is the one DOCKER_HOST names (default /var/run/docker.sock), so
 * the same runner can be pointed at a private daemon (its own --data-root,
 * --exec-root, --pidfile and -H). Give such a daemon a bridge of its own
 * (`--bridge <iface>`), never `--bridge=none`: dockerd then deletes the
 * interface docker0, the other daemon's default bridge.
 */
import Docker from 'dockerode';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerEngine } from '../../src/engines/docker/index.ts';
import { LABEL_OWNER, LABEL_PLUGIN, OWNER } from '../../src/engines/docker/container.ts';
import { isAirlockError } from '../../src/errors.ts';
import { computeGrants, defaultPolicy, type Grants } from '../../src/grants/index.ts';
import { loadPlugin } from '../../src/manifest/index.ts';
import { fixture } from '../host/helpers.ts';
import { settled, useRecordedDockerBaseImages, within } from './helpers.ts';

const ROOT = join(import.meta.dirname, '../..');
const BOUND_MS = 120_000;

if (process.env.AIRLOCK_TEST_RESTART_DOCKERD !== '1') {
  process.stderr.write(
    '\n!!! SKIPPING the dockerd stop/restart test: it stops the Docker daemon, which breaks anything else using it.\n' +
      '!!! Set AIRLOCK_TEST_RESTART_DOCKERD=1 to run it (CI does, on a daemon it started itself).\n\n',
  );
  process.exit(0);
}

const pidfile = process.env.AIRLOCK_DOCKERD_PIDFILE ?? '/var/run/docker.pid';
const startCommand = process.env.AIRLOCK_DOCKERD_START ?? join(ROOT, '.ci/setup-docker.sh');
const docker = new Docker();
const failures: string[] = [];
function check(ok: boolean, what: string): void {
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}\n`);
  if (!ok) failures.push(what);
}

async function answers(): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

/** Polls until `cond` holds (a daemon's exit has no event to wait on); throws after `ms`. */
async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopDaemon(): Promise<void> {
  const pid = Number(readFileSync(pidfile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${pidfile} holds no pid`);
  process.kill(pid, 'SIGTERM');
  await until(() => !alive(pid), 90_000, `dockerd (pid ${pid}) exiting`);
}

function startDaemon(): void {
  const r = spawnSync('bash', ['-c', startCommand], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${startCommand} failed (status ${r.status})`);
}

const settle = (p: Promise<unknown>, what: string): Promise<unknown> => settled(p, BOUND_MS, what);

const name = 'faults-restart';
useRecordedDockerBaseImages();
const g = computeGrants(loadPlugin(fixture('conformance-node')), defaultPolicy());
const grants: Grants = { ...g, plugin: { ...g.plugin, name }, resources: { ...g.resources, concurrency: 2, timeoutMs: 100_000 } };
const engine = new DockerEngine();
const plugin = await engine.load(grants);
let restarted = false;
try {
  check((await plugin.call('echo', '{"n":1}')).output === '{"n":1}', 'a call before the outage succeeds');
  const inFlight = [settle(plugin.call('spin', '{}'), 'call 1 in flight'), settle(plugin.call('spin', '{}'), 'call 2 in flight')];
  process.stdout.write('stopping dockerd…\n');
  await stopDaemon();
  for (const [i, p] of inFlight.entries()) {
    const e = await p;
    check(isAirlockError(e, 'engine-unavailable') || isAirlockError(e, 'crash'), `in-flight call ${i + 1} ends typed: ${String(e)}`);
  }
  const during = await settle(plugin.call('echo', '{"n":2}'), 'a call during the outage');
  check(isAirlockError(during, 'engine-unavailable'), `a call during the outage is engine-unavailable: ${String(during)}`);
  process.stdout.write('starting dockerd…\n');
  startDaemon();
  restarted = true;
  await until(answers, 90_000, 'dockerd answering');
  const after = await settle(plugin.call('echo', '{"n":3}'), 'the call after the restart');
  check(
    (after as { output?: string }).output === '{"n":3}',
    `the first call after the restart succeeds: ${String((after as { output?: string }).output ?? after)}`,
  );
  const again = await settle(plugin.call('echo', '{"n":4}'), 'a second call after the restart');
  check((again as { output?: string }).output === '{"n":4}', 'the next one too');
} finally {
  if (!restarted && !(await answers())) startDaemon();
  await within(plugin.close(), BOUND_MS, 'closing the plugin');
}
const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABEL_OWNER}=${OWNER}`, `${LABEL_PLUGIN}=${name}`] }) });
check(left.length === 0, `no container left behind (found ${left.length})`);
if (failures.length > 0) {
  process.stdout.write(`\ndockerd restart: ${failures.length} failed\n`);
  process.exit(1);
}
process.stdout.write('\ndockerd restart: passed\n');
process.exit(0);
