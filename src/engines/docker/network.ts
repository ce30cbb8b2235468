/**
 * The network side of a network grant. Per loaded plugin:
 *
 * - an internal Docker network (no route out) whose bridge has no address on
 *   the host (`inhibit_ipv4`), so a plugin cannot reach the host's own
 *   services either: without it, every address of the host answers through
 *   the bridge's gateway, internal or not (checked: dockerd 20.10);
 * - a small proxy container on that network and on the default bridge,
 *   running Airlock's egress proxy (src/egress/main.ts, HTTP and
 *   CONNECT), which admits only the allowlisted host:port. It is the plugin's
 *   only way out; its decisions come back as JSON lines on its stdout.
 *
 * The proxy container is hardened like plugin containers (options.ts). Its
 * code is in its image (./egress-image.ts), not bind-mounted: nothing of this
 * machine's filesystem is needed, so a remote daemon runs it the same way.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { AirlockError } from '../../errors.ts';
import type { HostPattern } from '../../grants/types.ts';
import { type EgressDecision, proxyEnv } from '../../egress/index.ts';
import { egressImage } from './egress-image.ts';
import { LABEL_MANAGED, LABEL_OWNER, LABEL_PLUGIN, OWNER } from './container.ts';
import { loopbackEntries, RELAY_MOUNT, startLoopbackRelay, type LoopbackRelay } from './loopback.ts';
import { CONTAINER_USER, HARDENING } from './options.ts';
import { ProxyLog } from '../proxy-log.ts';

export interface Egress {
  /** The plugin containers' NetworkMode. */
  network: string;
  /** Proxy variables for the plugin containers' environment. */
  env: Record<string, string>;
  /** `http://<proxy address on the internal network>:3128`. */
  url: string;
  /** Set once the proxy has exited after it was ready (crash, OOM kill, killed from outside). */
  failure(): AirlockError | undefined;
  /** failure(), after asking the daemon whether the proxy still runs (its stream's end can come later). */
  check(): Promise<AirlockError | undefined>;
  close(): Promise<void>;
}

export interface EgressOptions {
  /** An image with Node >= 22.18 (the node base image). */
  image: string;
  /** The daemon is reached over the network (./daemon.ts): nothing of this machine can be bind-mounted there. */
  remote: boolean;
  onDecision?: (decision: EgressDecision) => void;
}

const PROXY_PORT = 3128;
const PROXY_MEMORY = 96 * 1024 * 1024;
const READY_TIMEOUT_MS = 30_000;

export async function startEgress(docker: Docker, plugin: string, allow: readonly HostPattern[], options: EgressOptions): Promise<Egress> {
  const suffix = randomBytes(4).toString('hex');
  const name = `airlock-egress-${plugin}-${suffix}`;
  const labels = { [LABEL_MANAGED]: 'true', [LABEL_OWNER]: OWNER, [LABEL_PLUGIN]: plugin };
  // A grant naming a loopback address means this machine's loopback (./loopback.ts), reached by a bind mount.
  const loopback = loopbackEntries(allow);
  if (loopback.length > 0 && options.remote) {
    const names = loopback.map((p) => `${p.host.includes(':') ? `[${p.host}]` : p.host}${p.port === undefined ? '' : `:${p.port}`}`).join(', ');
    throw new AirlockError(
      'engine-unavailable',
      `the network grant ${names} of ${plugin} names this machine's loopback, which a remote Docker daemon's containers cannot reach; use a local daemon, or grant an address the daemon's machine reaches`,
    );
  }
  const relay: LoopbackRelay | undefined = loopback.length > 0 ? await startLoopbackRelay(loopback) : undefined;
  const net = await docker
    .createNetwork({
      Name: name,
      Driver: 'bridge',
      Internal: true,
      CheckDuplicate: true,
      Labels: labels,
      Options: { 'com.docker.network.bridge.inhibit_ipv4': 'true' },
    })
    .catch(async (e: unknown) => {
      await relay?.close();
      throw e;
    });
  let proxy: Docker.Container | undefined;
  let stream: Duplex | undefined;
  let closing = false;
  let failure: AirlockError | undefined;
  const close = async (): Promise<void> => {
    closing = true;
    stream?.destroy();
    await proxy?.remove({ force: true, v: true }).catch(() => undefined);
    await removeNetwork(net);
    await relay?.close();
  };
  try {
    const runtime = await egressImage(docker, options.image);
    proxy = await docker.createContainer({
      name: `${name}-proxy`,
      Image: runtime.tag,
      Cmd: runtime.command,
      User: CONTAINER_USER,
      Env: [
        `${runtime.configEnv}=${JSON.stringify({ allow, listen: { host: '0.0.0.0', port: PROXY_PORT }, ...(relay === undefined ? {} : { loopbackRelay: RELAY_MOUNT }) })}`,
      ],
      Labels: { ...labels, 'airlock.role': 'egress-proxy' },
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      HostConfig: {
        ...HARDENING,
        NetworkMode: 'bridge',
        Memory: PROXY_MEMORY,
        MemorySwap: PROXY_MEMORY,
        NanoCpus: 0.5e9,
        PidsLimit: 64,
        Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
        Tmpfs: { '/tmp': 'rw,noexec,nosuid,nodev,size=1048576' },
        Mounts: relay === undefined ? [] : [{ Type: 'bind' as const, Source: relay.path, Target: RELAY_MOUNT, ReadOnly: true }],
      },
    });
    await net.connect({ Container: proxy.id });
    stream = (await proxy.attach({ stream: true, stdout: true, stderr: true })) as unknown as Duplex;
    const { ready, ended } = readLines(stream, options.onDecision);
    // Handled here as well: the stream can end (rejecting `ready`) while proxy.start() is still awaited or has
    // thrown, before anything awaits `ready`; unhandled, that rejection would end the whole process.
    ready.catch(() => undefined);
    // Without this, a proxy that dies later leaves every request of the plugin failing with a bare
    // ECONNREFUSED; calls then fail with this error instead (the pool is not restarted: the plugin
    // containers know the proxy by its address).
    const died = async (stderr: string): Promise<void> => {
      if (closing) return;
      failure ??= new AirlockError('engine-unavailable', `the egress proxy of ${plugin} has stopped; the plugin has no network until it is loaded again`, {
        details: { proxy: `${name}-proxy` },
      });
      const state = await proxy
        ?.inspect()
        .then((i) => i.State)
        .catch(() => undefined);
      const why =
        state === undefined
          ? 'it is gone'
          : state.OOMKilled
            ? `it was killed at its memory limit of ${PROXY_MEMORY / 1024 / 1024} MiB`
            : `exit code ${state.ExitCode}`;
      failure = new AirlockError(
        'engine-unavailable',
        `the egress proxy of ${plugin} has stopped (${why}${stderr === '' ? '' : `: ${stderr.trim().slice(-500)}`}); the plugin has no network until it is loaded again`,
        {
          details: { proxy: `${name}-proxy`, oomKilled: state?.OOMKilled, exitCode: state?.ExitCode },
        },
      );
    };
    // Without this, a proxy that dies later leaves every request of the plugin failing with a bare
    // ECONNREFUSED; calls then fail with this error instead (the pool is not restarted: the plugin
    // containers know the proxy by its address).
    void ended.then(died);
    const check = async (): Promise<AirlockError | undefined> => {
      if (failure === undefined && !closing) {
        const running = await proxy
          ?.inspect()
          .then((i) => i.State.Running)
          .catch(() => false);
        if (running !== true) await died('');
      }
      return failure;
    };
    await proxy.start();
    await withTimeout(ready, READY_TIMEOUT_MS, `the egress proxy of ${plugin} did not start within ${READY_TIMEOUT_MS / 1000} s`);
    const info = await proxy.inspect();
    const ip = info.NetworkSettings.Networks[name]?.IPAddress;
    if (ip === undefined || ip === '') throw new AirlockError('engine-unavailable', `the egress proxy of ${plugin} has no address on ${name}`);
    const url = `http://${ip}:${PROXY_PORT}`;
    return {
      network: name,
      url,
      env: proxyEnv(url),
      failure: () => failure,
      check,
      close,
    };
  } catch (e) {
    await close();
    throw e instanceof AirlockError
      ? e
      : new AirlockError('engine-unavailable', `cannot start the egress proxy of ${plugin}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Reads the proxy's JSON lines (docker's multiplexed frames). `ready` resolves at `listening` and rejects if
 * the stream ends first; `ended` resolves with the stderr tail whenever the stream ends.
 */
function readLines(stream: Duplex, onDecision: ((d: EgressDecision) => void) | undefined): { ready: Promise<void>; ended: Promise<string> } {
  let onEnd!: (stderr: string) => void;
  const ended = new Promise<string>((r) => (onEnd = r));
  const ready = new Promise<void>((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    let stderr = '';
    const log = new ProxyLog({ onListening: resolve, onDecision: (d) => onDecision?.(d) });
    stream.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 8) {
        const size = buf.readUInt32BE(4);
        if (buf.length < 8 + size) break;
        const kind = buf[0];
        const payload = buf.subarray(8, 8 + size);
        buf = buf.subarray(8 + size);
        if (kind === 2) stderr = (stderr + payload.toString('utf8')).slice(-2000);
        else log.push(payload);
      }
    });
    stream.on('error', () => undefined);
    const end = (): void => {
      reject(new AirlockError('engine-unavailable', `the egress proxy exited${stderr === '' ? '' : `: ${stderr.trim()}`}`));
      onEnd(stderr);
    };
    stream.once('end', end);
    stream.once('close', end);
  });
  return { ready, ended };
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new AirlockError('engine-unavailable', message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Removes a plugin's internal network. A container still attached (one the daemon is still tearing down as the
 * plugin closes, on a busy machine) makes the removal fail: it is detached, and the removal tried once more.
 * What still fails is left to the orphan clean-up (./orphans.ts), by label.
 */
async function removeNetwork(net: Docker.Network): Promise<void> {
  try {
    await net.remove();
    return;
  } catch {
    // Detached below, then removed again.
  }
  const info = (await net.inspect().catch(() => undefined)) as { Containers?: Record<string, unknown> } | undefined;
  for (const id of Object.keys(info?.Containers ?? {})) await net.disconnect({ Container: id, Force: true }).catch(() => undefined);
  await net.remove().catch(() => undefined);
}
