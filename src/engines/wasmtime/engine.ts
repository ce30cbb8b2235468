/**
 * The wasmtime CLI engine: every call is one `wasmtime run --invoke` process
 * on the precompiled component, with flags from the grants (./flags.ts).
 * Nothing survives a call, so `isolation` is always per-call here.
 *
 *   const engine = new WasmtimeEngine();
 *   const plugin = await engine.load(grants, { kind: 'component', path: '/path/plugin.wasm' });
 *   const { output, logs, metrics } = await plugin.call('echo', '{"x":1}', { signal, timeoutMs });
 *   await plugin.close();
 */
import { spawn } from 'node:child_process';
import { type Capability, LogCapture } from '../../capabilities/index.ts';
import { AirlockError } from '../../errors.ts';
import type { Grants } from '../../grants/types.ts';
import type { Artefact, Engine } from '../engine.ts';
import type { CallOptions, CallResult, EnginePlugin } from '../types.ts';
import { type CwasmStamp, cwasmStamp, precompile, sameStamp, unlinkableImports } from './compile.ts';
import { wasmtimeCommand, wasmtimeImportsCommand } from './flags.ts';
import { probeWasmtime, type WasmtimeProbe } from './locate.ts';
import { type CapturedText, classify } from './outcome.ts';
import { waveString } from './wave.ts';
import { INVOKE_TARGET } from '../../wit.ts';

/** Linux caps one argv string at 128 KiB (MAX_ARG_STRLEN), NUL included. */
export const MAX_INVOKE_BYTES = 128 * 1024 - 1;

/** After the epoch deadline (-W timeout) should have fired, how long before the process is killed. */
export const KILL_GRACE_MS = 1000;

/** Keeps the first `head` bytes and the last `tail` bytes of a stream. */
class HeadTail {
  readonly #head: number;
  readonly #tail: number;
  #first: Buffer[] = [];
  #firstLen = 0;
  #last: Buffer[] = [];
  #lastLen = 0;
  total = 0;
  constructor(head: number, tail: number) {
    this.#head = head;
    this.#tail = tail;
  }
  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.#firstLen < this.#head) {
      const take = Math.min(this.#head - this.#firstLen, chunk.length);
      this.#first.push(chunk.subarray(0, take));
      this.#firstLen += take;
      chunk = chunk.subarray(take);
    }
    if (chunk.length === 0) return;
    this.#last.push(chunk);
    this.#lastLen += chunk.length;
    while (this.#lastLen - (this.#last[0]?.length ?? 0) >= this.#tail && this.#last.length > 1) {
      this.#lastLen -= this.#last.shift()?.length ?? 0;
    }
  }
  captured(): CapturedText {
    let tail = Buffer.concat(this.#last);
    const cut = this.total > this.#head + this.#tail;
    if (tail.length > this.#tail) tail = tail.subarray(tail.length - this.#tail);
    return { text: Buffer.concat([...this.#first, tail]).toString('utf8'), cut };
  }
}

/** Bounded concurrency with a bounded queue; the queue's overflow is `overloaded`. */
class Gate {
  readonly #limit: number;
  readonly #queue: number;
  #active = 0;
  #waiters: Array<{ go: () => void }> = [];
  #idle: Array<() => void> = [];
  constructor(limit: number, queue: number) {
    this.#limit = Math.max(1, limit);
    this.#queue = Math.max(0, queue);
  }
  get active(): number {
    return this.#active;
  }
  async acquire(signal: AbortSignal | undefined, plugin: string): Promise<void> {
    if (this.#active < this.#limit) {
      this.#active++;
      return;
    }
    if (this.#waiters.length >= this.#queue) {
      throw new AirlockError('overloaded', `plugin ${plugin}: ${this.#active} calls running and ${this.#waiters.length} queued (resources.concurrency ${this.#limit}, queue ${this.#queue})`);
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        go: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new AirlockError('aborted', `call to plugin ${plugin} was aborted while queued`));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }
  release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) return next.go();
    this.#active--;
    if (this.#active === 0) for (const f of this.#idle.splice(0)) f();
  }
  drained(): Promise<void> {
    if (this.#active === 0 && this.#waiters.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}

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

export class WasmtimePlugin implements EnginePlugin {
  readonly grants: Grants;
  readonly info: WasmtimePluginInfo;
  readonly #env: Record<string, string>;
  readonly #gate: Gate;
  readonly #onClose: () => void;
  #closed = false;
  #recheck: Promise<void> | undefined;

  /** @internal use WasmtimeEngine.load */
  constructor(grants: Grants, info: WasmtimePluginInfo, env: Record<string, string>, onClose: () => void) {
    this.grants = grants;
    this.info = info;
    this.#env = env;
    this.#gate = new Gate(grants.resources.concurrency, grants.resources.queue);
    this.#onClose = onClose;
  }

  async call(tool: string, input: string, options: CallOptions = {}): Promise<CallResult> {
    const name = this.grants.plugin.name;
    if (this.#closed) throw new AirlockError('aborted', `plugin ${name} is closed`);
    if (options.signal?.aborted === true) throw new AirlockError('aborted', `call to plugin ${name} was aborted before it started`);
    // Every UTF-16 unit encodes to at least one byte: a longer input cannot fit, and is refused before
    // encoding it (a synchronous pass over megabytes would stall the host's event loop for every plugin).
    if (input.length + tool.length > MAX_INVOKE_BYTES) {
      throw new AirlockError('invalid-input', `input to ${name}/${tool} is at least ${input.length} bytes; the wasmtime CLI engine passes it on the command line, which Linux caps at 128 KiB. Use the worker engine (engine: wasm) for larger inputs`);
    }
    const invoke = `${INVOKE_TARGET}(${waveString(tool)}, ${waveString(input)})`;
    const invokeBytes = Buffer.byteLength(invoke, 'utf8');
    if (invokeBytes > MAX_INVOKE_BYTES) {
      throw new AirlockError('invalid-input', `input to ${name}/${tool} is ${invokeBytes} bytes once encoded; the wasmtime CLI engine passes it on the command line, which Linux caps at 128 KiB. Use the worker engine (engine: wasm) for larger inputs`);
    }
    const entered = performance.now();
    await this.#gate.acquire(options.signal, name);
    const started = performance.now();
    try {
      await this.#verified();
      const r = this.grants.resources;
      const limit = options.timeoutMs !== undefined && options.timeoutMs < r.timeoutMs ? options.timeoutMs : r.timeoutMs;
      const outcome = await this.#run(tool, invoke, limit, options.signal);
      const logs = new LogCapture(r.logBytes);
      logs.write('stdout', Buffer.from(outcome.guestStdout, 'utf8'));
      logs.write('stderr', Buffer.from(outcome.guestStderr, 'utf8'));
      const callLogs = { stdout: logs.text('stdout'), stderr: logs.text('stderr'), ...(logs.truncated ? { truncated: true } : {}) };
      const metrics = { engine: 'wasmtime' as const, durationMs: performance.now() - entered, queueMs: started - entered };
      if (outcome.error !== undefined) {
        Object.assign(outcome.error.details, { logs: callLogs, metrics });
        throw outcome.error;
      }
      return { output: outcome.output ?? '', logs: callLogs, metrics };
    } finally {
      this.#gate.release();
    }
  }

  /**
   * The cache entry may be deleted or damaged while the plugin runs (every
   * call runs the file anew): a stat per call notices a changed file, which
   * is then verified against its digest and compiled again when it does not
   * match, so the call runs what Airlock compiled, or fails typed.
   */
  async #verified(): Promise<void> {
    if (sameStamp(await cwasmStamp(this.info.cwasm), this.info.stamp)) return;
    this.#recheck ??= precompile(this.info.binary, this.info.version, this.info.component)
      .then((r) => {
        this.info.stamp = r.stamp;
        this.info.cwasm = r.cwasm;
      })
      .finally(() => {
        this.#recheck = undefined;
      });
    await this.#recheck;
  }

  #run(tool: string, invoke: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<ReturnType<typeof classify>> {
    const r = this.grants.resources;
    // Tail windows: the printed result is WAVE, at most 6x the JSON it encodes (`\u{1f}` for one control byte).
    const stdout = new HeadTail(r.logBytes, r.outputBytes * 6 + 4096);
    const stderr = new HeadTail(r.logBytes, 64 * 1024);
    const args = ['run', '--allow-precompiled', '--argv0', this.grants.plugin.name, ...this.info.args, '--invoke', invoke, this.info.cwasm];
    return new Promise((resolve) => {
      let killed: 'timeout' | 'aborted' | 'output-limit' | undefined;
      const child = spawn(this.info.binary, args, {
        // Only what wasmtime needs plus the granted variables (see capabilities/env/wasmtime.ts).
        env: { RUST_BACKTRACE: '0', ...this.#env },
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: '/',
      });
      const kill = (why: typeof killed): void => {
        killed ??= why;
        child.kill('SIGKILL');
      };
      // Last resort: -W timeout interrupts the guest itself; this covers a stuck host call or a lower per-call timeout.
      const killAfter = timeoutMs < r.timeoutMs ? timeoutMs : r.timeoutMs + KILL_GRACE_MS;
      const timer = setTimeout(() => kill('timeout'), killAfter);
      const onAbort = (): void => kill('aborted');
      signal?.addEventListener('abort', onAbort, { once: true });
      // Aborted while queued or between acquiring a slot and spawning.
      if (signal?.aborted === true) kill('aborted');
      // A guest printing without end is cut off once it could no longer be a valid answer plus logs.
      const hardCap = r.logBytes + r.outputBytes * 6 + 4096 + 16 * 1024 * 1024;
      child.stdout.on('data', (c: Buffer) => {
        stdout.push(c);
        if (stdout.total > hardCap) kill('output-limit');
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr.push(c);
        if (stderr.total > hardCap) kill('output-limit');
      });
      let spawnError: Error | undefined;
      child.on('error', (e) => {
        spawnError = e;
      });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (spawnError !== undefined && code === null && sig === null) {
          resolve({
            error: new AirlockError('engine-unavailable', `cannot start ${this.info.binary}: ${spawnError.message}`, { cause: spawnError }),
            guestStdout: '',
            guestStderr: '',
          });
          return;
        }
        resolve(
          classify({
            tool,
            code,
            signal: sig,
            stdout: stdout.captured(),
            stderr: stderr.captured(),
            ...(killed === undefined ? {} : { killed }),
            timeoutMs,
            outputBytes: r.outputBytes,
            memoryBytes: r.memoryBytes,
          }),
        );
      });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#gate.drained();
    this.#onClose();
  }
}

export interface WasmtimeEngineOptions {
  /** A probe result to use instead of locating wasmtime (tests, `airlock doctor` reuse). */
  probe?: WasmtimeProbe;
  /** The capabilities whose mappings make the command line (default: every capability, see ./flags.ts). */
  capabilities?: readonly Capability[];
}

export class WasmtimeEngine implements Engine {
  readonly name = 'wasmtime';
  readonly #options: WasmtimeEngineOptions;
  #probe: Promise<WasmtimeProbe> | undefined;
  readonly #plugins = new Set<WasmtimePlugin>();

  constructor(options: WasmtimeEngineOptions = {}) {
    this.#options = options;
    if (options.probe !== undefined) this.#probe = Promise.resolve(options.probe);
  }

  probe(): Promise<WasmtimeProbe> {
    this.#probe ??= probeWasmtime();
    return this.#probe;
  }

  /**
   * Refuses (engine-unavailable) when wasmtime is missing or when a grant
   * cannot be expressed exactly by the CLI; otherwise compiles the component
   * ahead of time (cached) and returns a plugin whose calls each run one
   * wasmtime process.
   */
  async load(grants: Grants, artefact: Artefact): Promise<WasmtimePlugin> {
    if (artefact.kind !== 'component') throw new AirlockError('internal', `the wasmtime engine runs components; it was given a ${artefact.kind} artefact for ${grants.plugin.name}`);
    const componentPath = artefact.path;
    const probe = await this.probe();
    if (!probe.available || probe.path === undefined || probe.version === undefined) {
      throw new AirlockError('engine-unavailable', `the wasmtime engine is unavailable: ${probe.reason ?? 'not found'}; ${probe.installHint}`, { details: { installHint: probe.installHint } });
    }
    const cmd = wasmtimeCommand(grants, this.#options.capabilities);
    if (cmd.refusals.length > 0) {
      throw new AirlockError('engine-unavailable', `the wasmtime engine refuses plugin ${grants.plugin.name}: ${cmd.refusals.join('; ')}`, {
        details: { refusals: cmd.refusals },
      });
    }
    const { cwasm, imports, stamp } = await precompile(probe.path, probe.version, componentPath);
    const unknown = unlinkableImports(imports);
    if (unknown.length > 0) {
      throw new AirlockError('build-failed', `${componentPath} imports ${unknown.join(', ')}, which Airlock does not provide (components may import WASI 0.2 interfaces only)`, {
        details: { imports: unknown },
      });
    }
    const forImports = wasmtimeImportsCommand(imports, this.#options.capabilities);
    if (forImports.refusals.length > 0) {
      throw new AirlockError('engine-unavailable', `the wasmtime engine refuses plugin ${grants.plugin.name}: ${forImports.refusals.join('; ')}`, {
        details: { refusals: forImports.refusals },
      });
    }
    cmd.args.push(...forImports.args);
    const info: WasmtimePluginInfo = { binary: probe.path, version: probe.version, cwasm, component: componentPath, stamp, args: cmd.args };
    const plugin: WasmtimePlugin = new WasmtimePlugin(grants, info, cmd.env, () => this.#plugins.delete(plugin));
    this.#plugins.add(plugin);
    return plugin;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#plugins].map((p) => p.close()));
  }
}
