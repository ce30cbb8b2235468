/**
 * Starting processes without forking the host. libuv starts a child with
 * fork() on Linux (measured with strace: clone without CLONE_VM), which
 * copies the parent's page tables: from a host holding a large heap every
 * start costs milliseconds more. A SpawnHelper keeps one small Node process
 * (./helper.ts, started on first use) that forks in the host's place.
 *
 *   const p = sharedSpawnHelper().spawn({ file, args, env, cwd: '/', stdout: { head, tail }, stderr: { head, tail }, maxStreamBytes });
 *   p.kill();                      // SIGKILL, through the helper
 *   const { code, signal, stdout, stderr, overflow } = await p.exit;
 *
 * If the helper dies, every process it had started is killed by pid and
 * its `exit` rejects (`crash`); the next spawn starts a new helper. The
 * helper ends with the host (./helper.ts watches its channel) and never keeps
 * the host alive while nothing runs.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { AirlockError } from '../errors.ts';
import type { SpawnExit, SpawnHelperReply, SpawnHelperRequest, SpawnRequest } from '../protocol.ts';

const HELPER = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './helper.ts' : './helper.js', import.meta.url));

/** A process started through the helper. */
export interface Spawned {
  /** How it ended; rejects with `crash` when the helper died first, `engine-unavailable` when no helper could start. */
  readonly exit: Promise<SpawnExit>;
  /** Its pid, once the helper has reported it. */
  readonly pid: number | undefined;
  /** Signals it through the helper (a no-op once it has ended). */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): void;
}

interface Pending {
  pid: number | undefined;
  resolve(x: SpawnExit): void;
  reject(e: AirlockError): void;
}

export interface SpawnHelperEvents {
  /** A process was started (its pid; the helper's pid is its parent). */
  started: [pid: number, helperPid: number];
  /** A process it started has ended and been reaped by the helper. */
  exited: [pid: number, code: number | null, signal: NodeJS.Signals | null];
  /** A helper process ended (exit code or signal), whatever the reason. */
  'helper-exit': [helperPid: number, code: number | null, signal: NodeJS.Signals | null];
}

export class SpawnHelper extends EventEmitter<SpawnHelperEvents> {
  #child: ChildProcess | undefined;
  #next = 1;
  readonly #pending = new Map<number, Pending>();

  /** The helper's pid while one runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  spawn(request: SpawnRequest): Spawned {
    const helper = this.#helper();
    const id = this.#next++;
    let pending!: Pending;
    const exit = new Promise<SpawnExit>((resolve, reject) => {
      pending = { pid: undefined, resolve, reject };
    });
    this.#pending.set(id, pending);
    this.#keepAlive();
    this.#send(helper, { kind: 'spawn', id, ...request });
    return {
      exit,
      get pid() {
        return pending.pid;
      },
      kill: (signal = 'SIGKILL') => {
        if (this.#pending.has(id) && this.#child === helper) this.#send(helper, { kind: 'kill', id, signal });
      },
    };
  }

  /** Ends the helper (what it runs dies with it); the next spawn starts another. */
  async close(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.ref(); // an idle helper is unref'd: its exit must still be waited for
    child.kill('SIGKILL');
    await gone;
  }

  #helper(): ChildProcess {
    if (this.#child !== undefined) return this.#child;
    // Its own session: a terminal's Ctrl-C reaches the host, which decides; the helper ends with the host's channel.
    // No execArgv of the host's (an inspector, a loader) and an empty env. Its heap is not capped below V8's default: it
    // holds what the processes print until they end (per process at most the kept head and tail, up to tens of MiB).
    const child = fork(HELPER, [], { execArgv: [], env: {}, stdio: ['ignore', 'ignore', 'ignore', 'ipc'], detached: true, cwd: '/' });
    this.#child = child;
    child.on('message', (m: SpawnHelperReply) => this.#reply(child, m));
    // A helper that never started emits 'error' and no 'exit'.
    child.on('error', (e) => {
      if (child.pid === undefined) this.#gone(child, null, null, e);
    });
    child.once('exit', (code, signal) => this.#gone(child, code, signal, undefined));
    return child;
  }

  #send(child: ChildProcess, m: SpawnHelperRequest): void {
    // A helper already gone drops the message: its exit fails the call.
    if (child.connected) child.send(m);
  }

  #reply(child: ChildProcess, m: SpawnHelperReply): void {
    if (typeof m !== 'object' || m === null || typeof m.id !== 'number') return;
    const p = this.#pending.get(m.id);
    if (p === undefined || child !== this.#child) return;
    if (m.kind === 'started') {
      p.pid = m.pid;
      this.emit('started', m.pid, child.pid ?? 0);
      return;
    }
    this.#pending.delete(m.id);
    this.#keepAlive();
    const { kind: _k, id: _i, ...exit } = m;
    if (p.pid !== undefined) this.emit('exited', p.pid, exit.code, exit.signal);
    p.resolve(exit);
  }

  /** The helper ended: its processes are killed and their calls fail; the next spawn starts a new helper. */
  #gone(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, startError: Error | undefined): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#keepAlive();
    for (const p of pending) {
      // Orphaned by the helper's death (its processes are not killed with it): ended here, by the pid it reported.
      if (p.pid !== undefined) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      p.reject(
        startError !== undefined
          ? new AirlockError('engine-unavailable', `cannot start Airlock's spawn helper (${process.execPath} ${HELPER}): ${startError.message}`, {
              cause: startError,
            })
          : new AirlockError(
              'crash',
              `Airlock's spawn helper (pid ${child.pid}) ended (${signal ?? `exit status ${code}`}) while the process it started ran; the next call starts a new helper`,
              { details: { helperPid: child.pid, exitCode: code, signal } },
            ),
      );
    }
    this.emit('helper-exit', child.pid ?? 0, code, signal);
  }

  /** The helper keeps the host's event loop alive only while a process it started runs. */
  #keepAlive(): void {
    const child = this.#child;
    if (child === undefined) return;
    if (this.#pending.size > 0) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  }
}

let shared: SpawnHelper | undefined;

/** The host's one helper, shared by everything that starts processes per call. */
export function sharedSpawnHelper(): SpawnHelper {
  shared ??= new SpawnHelper();
  return shared;
}
