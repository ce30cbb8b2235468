/**
 * One running plugin container and the JSON-lines protocol over its attached
 * stdio (message types in src/protocol.ts). The container is created with
 * stdin attached once (`StdinOnce`): when Airlock's connection goes away, even
 * because Airlock died, the in-container host reads end-of-file and exits,
 * so containers do not outlive their owner by more than a moment.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { AirlockError } from '../../errors.ts';
import type { EngineUsage } from '../types.ts';
import { callUsage, cgroupFiles, containerFigures, type CgroupFiles } from './usage.ts';
import type { ContainerError } from '../../protocol.ts';
import { HostStream, lastLines, type ResultMessage, STDERR_TAIL } from '../host-stream.ts';

/** Labels on everything Airlock creates; `airlock.owner` lets a later run find what a dead one left. */
export const LABEL_MANAGED = 'airlock.managed';
export const LABEL_OWNER = 'airlock.owner';
export const LABEL_PLUGIN = 'airlock.plugin';
export const OWNER = `${hostname()}/${process.pid}`;

export type { ResultMessage } from '../host-stream.ts';

export interface ContainerSpec {
  image: string;
  plugin: string;
  hostConfig: Docker.HostConfig;
  env: Record<string, string>;
  user: string;
  /** A line from the container longer than this is an output-limit (the container is then killed). */
  maxLineBytes: number;
  /** More labels (Airlock's own are always set). */
  labels?: Record<string, string>;
  /** Advice for a plugin error, given its code and message (./hints.ts); undefined where none matches. */
  hint?: (code: string, message: string) => string | undefined;
}

export interface ExitInfo {
  exitCode: number | undefined;
  oomKilled: boolean;
  /** The daemon could not be reached to ask how the container ended (it stopped, or its socket went away). */
  daemonLost: boolean;
  /** The last lines the container wrote outside the protocol (its stderr). */
  tail: string;
}

/** True when `e` says the Docker daemon's socket does not answer (stopped, restarting, socket gone), not that a request failed. */
export function daemonUnreachable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ENOTCONN', 'EHOSTUNREACH', 'ETIMEDOUT'].includes(code) &&
    (e as { syscall?: unknown }).syscall !== 'open'
  );
}

/** The typed error for a daemon that does not answer. */
export function daemonError(plugin: string, e: unknown): AirlockError {
  return new AirlockError(
    'engine-unavailable',
    `plugin ${plugin}: the Docker daemon does not answer (${(e as Error).message}); start it again (e.g. \`sudo systemctl start docker\`): the next call retries`,
    { cause: e },
  );
}

/**
 * Containers whose removal failed because the daemon did not answer (it
 * stopped while they ran): removed once it answers again (see
 * removeLeftovers), so an outage leaves no stopped containers behind.
 */
const leftovers = new WeakMap<Docker, Set<string>>();

/** Removes the containers an outage kept us from removing; called after a container started (the daemon is back) and on close. */
export async function removeLeftovers(docker: Docker): Promise<void> {
  const ids = leftovers.get(docker);
  if (ids === undefined || ids.size === 0) return;
  await Promise.all(
    [...ids].map(async (id) => {
      try {
        await docker.getContainer(id).remove({ force: true, v: true });
        ids.delete(id);
      } catch (e) {
        // Gone already (404) is done; a daemon still away is tried again later.
        if (!daemonUnreachable(e)) ids.delete(id);
      }
    }),
  );
}
const START_TIMEOUT_MS = 60_000;
/** How long a SIGKILLed container's `oom` event is waited for: a bound, not a window (the event ends the wait). */
const OOM_EVENT_WAIT_MS = 5_000;

export class PluginContainer {
  readonly id: string;
  readonly name: string;
  /**
   * Marks the errors the in-container host raises itself (origin: airlock). The plugin runs in the host's
   * process and can write to the protocol stream, so `origin` alone proves nothing; the host gets this
   * token as the first line on stdin, before the plugin loads, and keeps it out of the plugin's reach
   * (not in the environment, which /proc/self/environ would show). Host errors without it are plugin errors.
   */
  readonly #token = randomBytes(16).toString('hex');
  readonly #docker: Docker;
  readonly #container: Docker.Container;
  readonly #stream: Duplex;
  readonly #spec: ContainerSpec;
  readonly #host: HostStream;
  #buf: Buffer = Buffer.alloc(0);
  #stderrTail = '';
  #killed = false;
  /** CPU nanoseconds at the end of the last call (see usage()). */
  #cpuNs: number | undefined;
  /** Where its cgroup's figures are read (./usage.ts); undefined: not on this machine. */
  #cgroup: CgroupFiles | undefined;
  readonly exited: Promise<ExitInfo>;

  private constructor(docker: Docker, container: Docker.Container, name: string, stream: Duplex, spec: ContainerSpec) {
    this.#docker = docker;
    this.#container = container;
    this.id = container.id;
    this.name = name;
    this.#stream = stream;
    this.#spec = spec;
    this.#host = new HostStream({
      plugin: spec.plugin,
      instance: 'container',
      name,
      maxLineBytes: spec.maxLineBytes,
      ...(spec.hint === undefined ? {} : { hint: spec.hint }),
      write: (line) => stream.write(line),
      broken: () => void this.kill(),
    });
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('error', () => {
      // The connection breaking is seen as the container ending (below).
    });
    this.exited = new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
    }).then(() => {
      // The daemon ends its side when the container exits; close ours so the socket does not linger.
      stream.destroy();
      return this.#exitInfo();
    });
    void this.exited.then((info) => this.#failAll(info));
  }

  /** Creates, attaches and starts a container, resolving once its host has loaded the plugin. */
  static async start(docker: Docker, spec: ContainerSpec, signal?: AbortSignal): Promise<PluginContainer> {
    const name = `airlock-${spec.plugin}-${randomBytes(4).toString('hex')}`;
    const options: Docker.ContainerCreateOptions = {
      name,
      Image: spec.image,
      User: spec.user,
      WorkingDir: '/airlock/plugin',
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      Labels: { ...spec.labels, [LABEL_MANAGED]: 'true', [LABEL_OWNER]: OWNER, [LABEL_PLUGIN]: spec.plugin },
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      OpenStdin: true,
      StdinOnce: true,
      Tty: false,
      HostConfig: spec.hostConfig,
      ...(signal === undefined ? {} : { abortSignal: signal }),
    };
    const container = await docker.createContainer(options).catch(async (e: unknown) => {
      // An abort can land after the daemon created the container: remove it by its (unique) name.
      if (signal?.aborted === true)
        await docker
          .getContainer(name)
          .remove({ force: true, v: true })
          .catch(() => undefined);
      throw e;
    });
    let pc: PluginContainer | undefined;
    let started = false;
    try {
      const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;
      pc = new PluginContainer(docker, container, name, stream, spec);
      // It can reject before it is awaited (the container ends while container.start() is still pending,
      // as when the daemon stops): that is handled below, never an unhandled rejection ending the process.
      const ready = pc.#host.ready();
      await container.start(signal === undefined ? {} : { abortSignal: signal });
      started = true;
      await pc.#host.greet(ready, pc.#token, { signal, timeoutMs: START_TIMEOUT_MS });
      return pc;
    } catch (e) {
      if (pc !== undefined && started) await pc.kill();
      else {
        // Its start never answered (an abort, as when a pool closes mid-start, or a daemon error): it may or may
        // not have run. Removed by force (killed first if it runs); and our end of the attach stream is closed
        // here, since the daemon keeps the stream of a container that never ran open even once it is removed,
        // so kill() would wait for its end for ever.
        await container.remove({ force: true, v: true }).catch(() => undefined);
        if (pc !== undefined) pc.#stream.destroy();
      }
      throw e;
    }
  }

  /** Sends one request; resolves with its result. One call at a time. */
  call(tool: string, input: unknown): Promise<ResultMessage> {
    return this.#host.call(tool, input);
  }

  /**
   * What the call that just ended used (./usage.ts): CPU since the previous call ended (or
   * since `markUsage()` at start) and the container's peak memory, from the daemon.
   */
  async usage(): Promise<EngineUsage> {
    const end = await containerFigures(this.#cgroup);
    const start = this.#cpuNs;
    this.#cpuNs = end.cpuNs;
    return callUsage(end, start);
  }

  /** Finds the container's cgroup files and notes the CPU time before the first call (start-up is not a call's). */
  async markUsage(): Promise<void> {
    try {
      const pid = (await this.#container.inspect()).State.Pid;
      this.#cgroup = pid > 0 ? await cgroupFiles(pid, this.id) : undefined;
    } catch {
      this.#cgroup = undefined;
    }
    this.#cpuNs = (await containerFigures(this.#cgroup)).cpuNs;
  }

  /** Whether an error really comes from the in-container host (see #token), not from the plugin posing as it. */
  fromHost(error: ContainerError): boolean {
    return error.origin === 'airlock' && (error as ContainerError & { token?: unknown }).token === this.#token;
  }

  get killed(): boolean {
    return this.#killed;
  }

  /** Kills and removes the container (idempotent); resolves when it is gone. */
  async kill(): Promise<void> {
    if (!this.#killed) {
      this.#killed = true;
      await this.#container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
    }
    await this.exited.catch(() => undefined);
  }

  /** Closes stdin (the host then exits by itself) and removes the container. */
  async stop(): Promise<void> {
    this.#stream.end();
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([this.exited.then(() => true), new Promise<false>((r) => (timer = setTimeout(r, 2000, false)))]);
    clearTimeout(timer);
    if (!exited) await this.kill();
  }

  // ---- stdio: docker's multiplexed stream (8-byte frame headers) ----

  #onData(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= 8) {
      const kind = this.#buf[0];
      const size = this.#buf.readUInt32BE(4);
      if (this.#buf.length < 8 + size) break;
      const payload = this.#buf.subarray(8, 8 + size);
      this.#buf = this.#buf.subarray(8 + size);
      if (kind === 1) this.#host.push(payload);
      else if (kind === 2) this.#stderrTail = (this.#stderrTail + payload.toString('utf8')).slice(-STDERR_TAIL);
    }
  }

  async #exitInfo(): Promise<ExitInfo> {
    let exitCode: number | undefined;
    let oomKilled = false;
    let daemonLost = false;
    try {
      const state = (await this.#container.inspect()).State;
      // The stream can end a moment before the daemon records the exit.
      if (state.Running) {
        const w = (await this.#container.wait()) as { StatusCode?: number };
        exitCode = w.StatusCode;
        oomKilled = (await this.#container.inspect()).State.OOMKilled;
      } else {
        exitCode = state.ExitCode;
        oomKilled = state.OOMKilled;
      }
      // A SIGKILL (137) we did not send is usually the kernel's OOM killer, but the daemon records
      // OOMKilled from containerd's OOM event, which can land well after the exit on a busy machine
      // (cgroup v1): wait for that event itself (replayed if it already happened), within a bound.
      if (exitCode === 137 && !oomKilled && !this.#killed) oomKilled = await this.#oomEvent(state.StartedAt);
    } catch (e) {
      // Already removed, or the daemon went away (then the stream ended because it did).
      daemonLost = daemonUnreachable(e);
    }
    await this.#container.remove({ force: true, v: true }).catch((e: unknown) => {
      if (!daemonUnreachable(e)) return;
      let ids = leftovers.get(this.#docker);
      if (ids === undefined) leftovers.set(this.#docker, (ids = new Set()));
      ids.add(this.id);
    });
    return { exitCode, oomKilled, daemonLost, tail: this.#stderrTail };
  }

  /**
   * Whether the daemon logged an `oom` event for this container: the events API replays what happened
   * since the container started and then streams until `OOM_EVENT_WAIT_MS` from now, so this returns
   * as soon as the event exists, and waits the bound only for a SIGKILL that was not the OOM killer's.
   */
  async #oomEvent(startedAt: string): Promise<boolean> {
    const since = Math.floor((Date.parse(startedAt) || Date.now() - 60_000) / 1000);
    const until = Math.ceil((Date.now() + OOM_EVENT_WAIT_MS) / 1000);
    const stream = (await this.#docker.getEvents({
      since,
      until,
      filters: JSON.stringify({ container: [this.id], event: ['oom'] }),
    })) as NodeJS.ReadableStream & { destroy?: () => void };
    try {
      // The filter lets only this container's `oom` events through: any event is the answer.
      for await (const chunk of stream) if (String(chunk).trim() !== '') return true;
      return false;
    } finally {
      stream.destroy?.();
    }
  }

  #failAll(info: ExitInfo): void {
    this.#host.fail(exitError(this.#spec.plugin, info, this.#killed));
  }
}

/** What a container's end means for the call it was serving. */
export function exitError(plugin: string, info: ExitInfo, killed: boolean): AirlockError {
  const tail = lastLines(info.tail);
  const details = { exitCode: info.exitCode, oomKilled: info.oomKilled, lastLines: tail };
  // Only the daemon's word counts: the plugin writes the stderr tail, so a pattern there could be forged.
  if (info.oomKilled) {
    return new AirlockError('memory-limit', `plugin ${plugin} went past its memory limit and was killed`, { details });
  }
  if (killed) return new AirlockError('crash', `plugin ${plugin}: its container was stopped`, { details });
  if (info.daemonLost) {
    return new AirlockError(
      'engine-unavailable',
      `plugin ${plugin}: the connection to the Docker daemon was lost during the call (the daemon stopped?); the next call starts a new container once it answers`,
      { details },
    );
  }
  return new AirlockError(
    'crash',
    `plugin ${plugin}: its container exited (code ${info.exitCode ?? 'unknown'})${tail === '' ? '' : `; last lines:\n${tail}`}`,
    { details },
  );
}
