/**
 * The host side of the in-container protocol (runtimes/node, runtimes/python)
 * over one instance's stdout, for every engine that runs those hosts (a
 * Docker container, a Kubernetes Pod): lines bounded by `maxLineBytes`, the
 * host's `ready` and `fatal`, and the one call in flight. The engine feeds it
 * stdout bytes, writes what it returns to stdin, and ends the instance when
 * told it broke (a malformed message, a line over the bound, a fatal load).
 *
 * The plugin runs in the in-container host's process and can write to the protocol stream itself, so only
 * what the protocol expects at that moment is taken: `ready` (or `fatal`) while starting, then one `result`
 * with the id of the call in flight. The first answer wins; one more of the same (the in-container host's
 * own, after a look-alike the plugin wrote) is dropped. Anything else (a result no call is waiting for, a
 * third `ready`) breaks the instance, and once broken its bytes are dropped unread: a plugin cannot keep the
 * host's event loop parsing lines it sends between calls or while its instance is being deleted (seconds,
 * for a Pod).
 */
import { AirlockError, type ErrorCode } from '../errors.ts';
import type { Grants } from '../grants/types.ts';
import { parseContainerMessage, type ContainerError, type ContainerMessage, type ContainerRequest } from '../protocol.ts';
import { BoundedLines } from './lines.ts';
import { cleanGuestText, MAX_CODE_CHARS, MAX_MESSAGE_CHARS, pluginError } from './plugin-error.ts';
import type { CallLogs } from './types.ts';

export type ResultMessage = Extract<ContainerMessage, { type: 'result' }>;

export interface HostStreamOptions {
  plugin: string;
  /** What one instance is called in messages: `container`, `Pod`. */
  instance: string;
  /** Its name, for a busy refusal. */
  name: string;
  maxLineBytes: number;
  /** A hint for a plugin error code and message (../docker/hints.ts). */
  hint?: (code: string, message: string) => string | undefined;
  /** Writes one line to the instance's stdin. */
  write(line: string): void;
  /** The instance broke the protocol or failed to load: the engine ends it. */
  broken(): void;
}

/** An unfinished line an instance may hold while no call is in flight. */
export const IDLE_LINE_BYTES = 64 * 1024;

export class HostStream {
  readonly #o: HostStreamOptions;
  readonly #lines: BoundedLines;
  #nextId = 1;
  #pending: { id: number; resolve(m: ResultMessage): void; reject(e: AirlockError): void } | undefined;
  #ready: { resolve(): void; reject(e: AirlockError): void } | undefined;
  /** Until the host's `ready` (or `fatal`): only those are expected. */
  #starting = true;
  /** The last answer taken (`ready`, or a call's id): one more of it is the host's own after a look-alike, dropped. */
  #late: 'ready' | number | undefined;
  /** Why the instance broke; from then on nothing it sends is read. */
  #broken: AirlockError | undefined;

  constructor(o: HostStreamOptions) {
    this.#o = o;
    this.#lines = new BoundedLines(
      o.maxLineBytes,
      (line) => this.#onLine(line),
      () => this.#break(new AirlockError('output-limit', `plugin ${o.plugin}: the ${o.instance} sent more than ${o.maxLineBytes} bytes in one message`)),
    );
  }

  /** Bytes the instance wrote to its stdout. */
  push(chunk: Buffer): void {
    if (this.#broken !== undefined) return;
    this.#lines.push(chunk);
    // Between calls only the host's own repeat of an answer may come (a short line in practice): an idle
    // instance does not get the whole line bound (tens of MiB) held for it.
    if (this.#pending === undefined && !this.#starting && this.#lines.pending > IDLE_LINE_BYTES)
      this.#break(
        new AirlockError('crash', `plugin ${this.#o.plugin}: the ${this.#o.instance} wrote more than ${IDLE_LINE_BYTES} bytes while no call was in flight`),
      );
  }

  /** Resolves when the host says it loaded the plugin; rejects with what fail() is given first. Call once, before the hello. */
  ready(): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
    // It can reject before the engine awaits it (the instance ends while it is still starting).
    ready.catch(() => undefined);
    return ready;
  }

  /**
   * Says hello with the instance's token, then waits for `ready` (from ready(), taken before the instance
   * could end): an abort of `signal` fails the start (`aborted`), and so does a host that says nothing for
   * `timeoutMs` (`crash`).
   */
  async greet(ready: Promise<void>, token: string, o: { signal?: AbortSignal | undefined; timeoutMs: number }): Promise<void> {
    const { plugin, instance } = this.#o;
    this.#o.write(`${JSON.stringify({ type: 'hello', token })}\n`);
    const onAbort = (): void => this.fail(new AirlockError('aborted', `starting a ${instance} for ${plugin} was aborted`));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        ready,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new AirlockError('crash', `the ${instance} of ${plugin} did not get ready within ${o.timeoutMs / 1000} s`)),
            o.timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Sends one request; resolves with its result. One call at a time. */
  call(tool: string, input: unknown): Promise<ResultMessage> {
    if (this.#broken !== undefined) return Promise.reject(this.#broken);
    if (this.#pending !== undefined) return Promise.reject(new AirlockError('internal', `${this.#o.instance} ${this.#o.name} is busy`));
    const id = this.#nextId++;
    const req: ContainerRequest = { id, tool, input };
    return new Promise<ResultMessage>((resolve, reject) => {
      this.#pending = { id, resolve, reject };
      this.#o.write(`${JSON.stringify(req)}\n`);
    });
  }

  /** Rejects the start or the call in flight with `err`. */
  fail(err: AirlockError): void {
    this.#ready?.reject(err);
    this.#ready = undefined;
    const p = this.#pending;
    this.#pending = undefined;
    p?.reject(err);
  }

  /** The instance broke the protocol: the start or call in flight fails with `err`, the engine ends it, nothing more is read. */
  #break(err: AirlockError): void {
    if (this.#broken !== undefined) return;
    this.#broken = err;
    this.fail(err);
    this.#o.broken();
  }

  #onLine(line: string): void {
    if (this.#broken !== undefined) return;
    const { plugin, instance } = this.#o;
    const msg = parseContainerMessage(line);
    if (msg === undefined) {
      this.#break(new AirlockError('crash', `plugin ${plugin}: the ${instance} sent a malformed message: ${cleanGuestText(line, 200)}`));
      return;
    }
    if (msg.type === 'fatal') {
      // The plugin's text (its entry's exception, its prints while loading): cut and cleaned as any guest error is.
      const code = cleanGuestText(msg.error.code, MAX_CODE_CHARS);
      const message = cleanGuestText(msg.error.message, MAX_MESSAGE_CHARS);
      const logs = cleanGuestText([msg.stdout, msg.stderr].filter((s) => s !== undefined && s !== '').join('\n'), MAX_MESSAGE_CHARS);
      // The entry threw while loading, outside any tool: `trap`, as for a wasm guest.
      this.#break(
        new AirlockError('trap', `plugin ${plugin}: ${message}${logs === '' ? '' : `\n${logs}`}`, {
          details: { pluginCode: code },
          hint: this.#o.hint?.(code, message),
        }),
      );
      return;
    }
    const p = this.#pending;
    if (msg.type === 'ready' && this.#starting) {
      this.#starting = false;
      this.#late = 'ready';
      this.#ready?.resolve();
      this.#ready = undefined;
    } else if (msg.type === 'result' && !this.#starting && p !== undefined && p.id === msg.id) {
      this.#pending = undefined;
      this.#late = msg.id;
      p.resolve(msg);
    } else if ((msg.type === 'ready' ? 'ready' : msg.id) === this.#late) {
      this.#late = undefined;
    } else {
      const what = msg.type === 'ready' ? 'one ready too many' : this.#starting ? 'a result before ready' : `a result (id ${msg.id}) no call is waiting for`;
      this.#break(new AirlockError('crash', `plugin ${plugin}: the ${instance} sent ${what}; the protocol allows one answer per call`));
    }
  }
}

/** Characters of an instance's stderr kept for an error, and lines of it shown. */
export const STDERR_TAIL = 4000;
const TAIL_LINES = 20;

/**
 * The last lines an instance wrote to its stderr, for the error of its end: the plugin's text, so cleaned as
 * any guest error text is (escape sequences and controls removed) before it goes into a message.
 */
export function lastLines(stderrTail: string): string {
  return cleanGuestText(stderrTail.slice(-STDERR_TAIL), STDERR_TAIL).trim().split('\n').slice(-TAIL_LINES).join('\n');
}

/**
 * Codes the in-container host itself reports (origin: airlock, with the instance's token). memory-limit is
 * not one: only the runtime's OOM kill proves it (a plugin can raise MemoryError itself).
 */
const HOST_CODES = new Set<string>(['not-found', 'output-limit', 'crash']);

/**
 * A call's result message as the engine returns it: logs cut to resources.logs (the host cuts them already;
 * this is the engine's own guarantee), a host error with its own code only when `fromHost` proves it came
 * from the host, else the plugin's error, or output-limit past resources.output.
 */
export function callOutcome(
  grants: Grants,
  tool: string,
  msg: ResultMessage,
  fromHost: (e: ContainerError) => boolean,
  hint?: (code: string, message: string) => string | undefined,
): { output: string; logs: CallLogs } | AirlockError {
  const logBytes = grants.resources.logBytes;
  let truncated = msg.truncated;
  let { stdout, stderr } = msg;
  if (Buffer.byteLength(stdout) + Buffer.byteLength(stderr) > logBytes) {
    stdout = Buffer.from(stdout).subarray(0, logBytes).toString('utf8');
    stderr = Buffer.from(stderr)
      .subarray(0, Math.max(0, logBytes - Buffer.byteLength(stdout)))
      .toString('utf8');
    truncated = true;
  }
  const logs = { stdout, stderr, ...(truncated ? { truncated: true } : {}) };
  const name = `${grants.plugin.name}.${tool}`;
  if (!msg.ok) {
    const e = msg.error;
    if (fromHost(e) && HOST_CODES.has(e.code)) return new AirlockError(e.code as ErrorCode, `${name}: ${e.message}`, { details: { logs } });
    return pluginError(name, e.code, e.message, { logs }, hint?.(e.code, e.message));
  }
  const bytes = Buffer.byteLength(msg.output);
  if (bytes > grants.resources.outputBytes) {
    return new AirlockError('output-limit', `${name}: the result is ${bytes} bytes; the limit is ${grants.resources.outputBytes}`, { details: { logs } });
  }
  return { output: msg.output, logs };
}

/**
 * Host-reported codes after which the instance is not reused: the host exits after a crash, and after a
 * MemoryError (reported as the plugin's error) the process is in doubt.
 */
const BROKEN_CODES = new Set<string>(['crash', 'MemoryError']);

/** Whether the host's answer leaves its instance unfit for another call. */
export function leavesBroken(msg: ResultMessage, fromHost: (e: ContainerError) => boolean): boolean {
  return !msg.ok && fromHost(msg.error) && BROKEN_CODES.has(msg.error.code);
}

/** A call's input as the in-container hosts take it: parsed JSON, else invalid-input naming the tool. */
export function admitJson(plugin: string, tool: string, input: string): unknown {
  try {
    return JSON.parse(input);
  } catch (e) {
    throw new AirlockError('invalid-input', `the input of ${plugin}.${tool} is not JSON: ${(e as Error).message}`);
  }
}
