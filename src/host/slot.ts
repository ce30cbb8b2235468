/**
 * A plugin as an agent lists it: its tools come from the manifest, so they
 * are listed at once, while its engine (build, pool start) may still be
 * opening in the background. A call to a tool of a plugin still opening
 * waits for it; one whose open failed answers why, under the code the load
 * would have thrown.
 */
import { AirlockError, isAirlockError } from '../errors.ts';
import type { ToolInfo } from './catalog.ts';
import type { LoadedEntry, PreparedEntry } from './loaded.ts';
import type { PluginState, PluginSummary } from './types.ts';

/** Longest part of a load error repeated in the description of each tool it made unavailable. */
const MAX_REASON_IN_DESCRIPTION = 300;

export class PluginSlot {
  readonly prepared: PreparedEntry;
  #state: PluginState;
  #entry: LoadedEntry | undefined;
  #error: AirlockError | undefined;
  /** The open; rejects with why it failed (always handled, so never an unhandled rejection). */
  readonly #ready: Promise<LoadedEntry>;
  /** Settles (never rejects) when the open does. */
  readonly settled: Promise<void>;
  /** Cancels an open still waiting for its turn (unload, close); one already under way finishes and is then released. */
  readonly cancel = new AbortController();

  /** `open` is the loaded plugin, or starts its open (told through the signal when the slot is dropped first). */
  constructor(prepared: PreparedEntry, open: LoadedEntry | ((cancelled: AbortSignal) => Promise<LoadedEntry>)) {
    this.prepared = prepared;
    if (typeof open !== 'function') {
      this.#state = 'ready';
      this.#entry = open;
      this.#ready = Promise.resolve(open);
      this.settled = Promise.resolve();
      return;
    }
    this.#state = 'loading';
    this.#ready = open(this.cancel.signal).catch((err: unknown) => {
      throw asAirlockError(err, prepared.plugin.manifest.name);
    });
    this.settled = this.#ready.then(
      (entry) => {
        this.#state = 'ready';
        this.#entry = entry;
      },
      (err: AirlockError) => {
        this.#state = 'failed';
        this.#error = err;
      },
    );
  }

  get name(): string {
    return this.prepared.plugin.manifest.name;
  }

  get state(): PluginState {
    return this.#state;
  }

  /** The open pool, once ready. */
  get entry(): LoadedEntry | undefined {
    return this.#entry;
  }

  get error(): AirlockError | undefined {
    return this.#error;
  }

  /** The tools as listed: a failed plugin's say in their description that they are unavailable, and why. */
  tools(): ToolInfo[] {
    const infos = [...this.prepared.tools.values()].map((t) => t.info);
    const error = this.#error;
    if (error === undefined) return infos;
    const why = error.message.length > MAX_REASON_IN_DESCRIPTION ? `${error.message.slice(0, MAX_REASON_IN_DESCRIPTION)}…` : error.message;
    return infos.map((info) => ({ ...info, description: `[unavailable: plugin ${this.name} failed to load (${error.code}): ${why}] ${info.description}` }));
  }

  /**
   * The open pool for a call to `tool`: at once when ready, else after the
   * open, unless the signal fires or `timeoutMs` passes first (`aborted`,
   * `timeout`); a failed open throws its error, naming the plugin and the tool.
   */
  whenOpen(tool: string, signal: AbortSignal | undefined, timeoutMs: number | undefined): LoadedEntry | Promise<LoadedEntry> {
    if (this.#entry !== undefined) return this.#entry;
    const failed = (err: AirlockError): AirlockError =>
      new AirlockError(err.code, `${tool} is unavailable: plugin ${this.name} failed to load: ${err.message}`, {
        cause: err,
        problems: err.problems,
        details: { ...err.details, plugin: this.name },
      });
    if (this.#error !== undefined) return Promise.reject(failed(this.#error));
    if (signal?.aborted === true) return Promise.reject(abortedWaiting(tool, this.name, signal.reason));
    return new Promise<LoadedEntry>((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () =>
                reject(
                  new AirlockError('timeout', `${tool} timed out after ${timeoutMs} ms waiting for plugin ${this.name} to load`, {
                    details: { plugin: this.name },
                  }),
                ),
              timeoutMs,
            );
      const onAbort = (): void => reject(abortedWaiting(tool, this.name, signal?.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.#ready.then(
        (entry) => {
          done();
          resolve(entry);
        },
        (err: AirlockError) => {
          done();
          reject(failed(err));
        },
      );
    });
  }

  summary(): PluginSummary {
    const { plugin, grants } = this.prepared;
    const opened = this.#entry?.opened;
    return {
      name: plugin.manifest.name,
      version: plugin.manifest.version,
      dir: plugin.dir,
      state: this.#state,
      ...(opened === undefined ? {} : { engine: opened.engine }),
      reason: opened?.reason ?? this.#error?.message ?? 'opening in the background',
      ...(this.#error === undefined ? {} : { error: this.#error }),
      tools: [...this.prepared.tools.values()].map((t) => t.info.name),
      grants,
    };
  }
}

function abortedWaiting(tool: string, plugin: string, reason: unknown): AirlockError {
  return new AirlockError('aborted', `call to ${tool} was aborted while plugin ${plugin} was loading`, { cause: reason });
}

function asAirlockError(err: unknown, plugin: string): AirlockError {
  if (isAirlockError(err)) return err;
  return new AirlockError('internal', `loading ${plugin} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
