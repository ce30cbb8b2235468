/**
 * The wasmtime engine's calls: each runs one `wasmtime run --invoke`
 * process, started by the spawn helper (src/spawn/), so its cost does not
 * grow with the host's heap. A slot of the pool (src/slots/pool.ts) is a
 * lane, the permission to run one such process; a timeout or abort kills
 * it, and the lane's next process starts once it has exited.
 */
import { LogCapture } from '../../capabilities/index.ts';
import { AirlockError } from '../../errors.ts';
import type { Grants } from '../../grants/types.ts';
import type { Slot, SlotCall, SlotDriver } from '../../slots/driver.ts';
import type { SlotPool } from '../../slots/pool.ts';
import type { CallResult } from '../types.ts';
import type { SpawnExit } from '../../protocol.ts';
import type { SpawnHelper, Spawned } from '../../spawn/client.ts';
import { type CwasmStamp, cwasmStamp, precompile, sameStamp } from './compile.ts';
import { classify } from './outcome.ts';
import { waveString } from './wave.ts';
import { INVOKE_TARGET } from '../../wit.ts';

/** Linux caps one argv string at 128 KiB (MAX_ARG_STRLEN), NUL included. */
export const MAX_INVOKE_BYTES = 128 * 1024 - 1;

/** After the epoch deadline (-W timeout) should have fired, how long before the process is killed. */
export const KILL_GRACE_MS = 1000;

export interface WasmtimePluginInfo {
  binary: string;
  version: string;
  cwasm: string;
  /** The component the `.cwasm` was compiled from (compiled again if the `.cwasm` changes on disk). */
  component: string;
  /** The `.cwasm` file as verified; see #verified. */
  stamp: CwasmStamp;
  /** The `wasmtime run` arguments before `--invoke` (no secret values: env values travel in the process env). */
  args: readonly string[];
}

/** A slot of the wasmtime engine: permission to run one process; `child` while it runs. */
export interface Lane {
  child: Spawned | undefined;
  /** Set when the pool killed the lane (timeout, abort): a call still verifying its .cwasm spawns nothing. */
  killed: boolean;
  /** Resolves once the lane's process has exited (at once when none ran). */
  exited: Promise<void>;
}

/** The invoke string a call passes to `wasmtime run --invoke`. */
export type Invoke = string;

export class ProcessDriver implements SlotDriver<Lane, Invoke> {
  pool!: SlotPool<Lane, Invoke, CallResult>;
  readonly #grants: Grants;
  readonly #info: WasmtimePluginInfo;
  readonly #env: Record<string, string>;
  readonly #helper: SpawnHelper;
  #recheck: Promise<void> | undefined;

  constructor(grants: Grants, info: WasmtimePluginInfo, env: Record<string, string>, helper: SpawnHelper) {
    this.#grants = grants;
    this.#info = info;
    this.#env = env;
    this.#helper = helper;
  }

  /** The input must fit on the command line. */
  admit(tool: string, input: string): Invoke {
    const name = this.#grants.plugin.name;
    // Every UTF-16 unit encodes to at least one byte: a longer input cannot fit, and is refused before
    // encoding it (a synchronous pass over megabytes would stall the host's event loop for every plugin).
    if (input.length + tool.length > MAX_INVOKE_BYTES) {
      throw new AirlockError(
        'invalid-input',
        `input to ${name}/${tool} is at least ${input.length} bytes; the wasmtime CLI engine passes it on the command line, which Linux caps at 128 KiB. Use the worker engine (engine: wasm) for larger inputs`,
      );
    }
    const invoke = `${INVOKE_TARGET}(${waveString(tool)}, ${waveString(input)})`;
    const invokeBytes = Buffer.byteLength(invoke, 'utf8');
    if (invokeBytes > MAX_INVOKE_BYTES) {
      throw new AirlockError(
        'invalid-input',
        `input to ${name}/${tool} is ${invokeBytes} bytes once encoded; the wasmtime CLI engine passes it on the command line, which Linux caps at 128 KiB. Use the worker engine (engine: wasm) for larger inputs`,
      );
    }
    return invoke;
  }

  /** A lane's next process starts only once the killed one has exited, so at most `concurrency` run. */
  async start(_slot: Slot<Lane, Invoke>, prev: Lane | undefined): Promise<Lane> {
    await prev?.exited;
    return { child: undefined, killed: false, exited: Promise.resolve() };
  }

  run(slot: Slot<Lane, Invoke>, call: SlotCall<Invoke>): void {
    const lane = slot.handle as Lane;
    this.#verified()
      .then(() => {
        if (lane.killed) return;
        this.#spawn(lane, call);
      })
      .catch((e: unknown) => this.pool.fail(call, e instanceof AirlockError ? e : new AirlockError('internal', String(e))));
  }

  kill(lane: Lane): Promise<void> {
    lane.killed = true;
    lane.child?.kill('SIGKILL');
    return lane.exited;
  }

  /** Nothing runs at close. */
  stop(lane: Lane): Promise<void> {
    return lane.exited;
  }

  /**
   * The cache entry may be deleted or damaged while the plugin runs (every
   * call runs the file anew): a stat per call notices a changed file, which
   * is then verified against its digest and compiled again when it does not
   * match, so the call runs what Airlock compiled, or fails typed.
   */
  async #verified(): Promise<void> {
    if (sameStamp(await cwasmStamp(this.#info.cwasm), this.#info.stamp)) return;
    this.#recheck ??= precompile(this.#info.binary, this.#info.version, this.#info.component)
      .then((r) => {
        this.#info.stamp = r.stamp;
        this.#info.cwasm = r.cwasm;
      })
      .finally(() => {
        this.#recheck = undefined;
      });
    await this.#recheck;
  }

  /** Runs the call's process on `lane` and settles the call with what it printed. */
  #spawn(lane: Lane, call: SlotCall<Invoke>): void {
    const r = this.#grants.resources;
    const args = ['run', '--allow-precompiled', '--argv0', this.#grants.plugin.name, ...this.#info.args, '--invoke', call.input, this.#info.cwasm];
    const child = this.#helper.spawn({
      file: this.#info.binary,
      args,
      // Only what wasmtime needs plus the granted variables (see capabilities/env/wasmtime.ts).
      env: { RUST_BACKTRACE: '0', ...this.#env },
      cwd: '/',
      // Tail windows: the printed result is WAVE, at most 6x the JSON it encodes (`\u{1f}` for one control byte).
      stdout: { head: r.logBytes, tail: r.outputBytes * 6 + 4096 },
      stderr: { head: r.logBytes, tail: 64 * 1024 },
      // A guest printing without end is cut off once it could no longer be a valid answer plus logs.
      maxStreamBytes: r.logBytes + r.outputBytes * 6 + 4096 + 16 * 1024 * 1024,
    });
    lane.child = child;
    lane.exited = child.exit.then(
      () => undefined,
      () => undefined,
    );
    child.exit.then(
      (exit) => {
        lane.child = undefined;
        this.#settle(call, exit);
      },
      (e: AirlockError) => {
        lane.child = undefined;
        this.pool.fail(call, e);
      },
    );
  }

  #settle(call: SlotCall<Invoke>, exit: SpawnExit): void {
    const r = this.#grants.resources;
    if (exit.error !== undefined && exit.code === null && exit.signal === null) {
      this.pool.fail(call, new AirlockError('engine-unavailable', `cannot start ${this.#info.binary}: ${exit.error}`));
      return;
    }
    const outcome = classify({
      tool: call.tool,
      code: exit.code,
      signal: exit.signal,
      stdout: exit.stdout,
      stderr: exit.stderr,
      ...(exit.overflow ? { killed: 'output-limit' as const } : {}),
      timeoutMs: call.timeoutMs,
      outputBytes: r.outputBytes,
      memoryBytes: r.memoryBytes,
    });
    const logs = new LogCapture(r.logBytes);
    logs.write('stdout', Buffer.from(outcome.guestStdout, 'utf8'));
    logs.write('stderr', Buffer.from(outcome.guestStderr, 'utf8'));
    const callLogs = { stdout: logs.text('stdout'), stderr: logs.text('stderr'), ...(logs.truncated ? { truncated: true } : {}) };
    if (outcome.error !== undefined) {
      Object.assign(outcome.error.details, { logs: callLogs, metrics: { engine: 'wasmtime', ...this.pool.metrics(call) } });
      this.pool.fail(call, outcome.error);
    } else {
      this.pool.answer(call, { output: outcome.output ?? '', logs: callLogs, metrics: { engine: 'wasmtime', ...this.pool.metrics(call) } });
    }
  }
}
