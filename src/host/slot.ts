/**
 * A plugin as an agent lists it: its tools come from the manifest, so they
 * are listed at once, while its engine (build, pool start) may still be
 * opening in the background. A call to a tool of a plugin still opening
 * waits for it; one whose open failed answers why, under the code the load
 * would have thrown.
 */
import { AirlockError, isAirlockError } from '../errors.ts';
import type { ProviderEvent } from '../provider/index.ts';
import type { ToolInfo } from './catalog.ts';
import type { LoadedEntry, PreparedEntry } from './loaded.ts';
import type { PluginState, PluginSummary } from './types.ts';

/** Longest part of a load error repeated in the description of each tool it made unavailable. */
const MAX_REASON_IN_DESCRIPTION = 300;
/** Longest open step passed to a waiting call (a build step's text comes from the plugin's build). */
const MAX_STEP = 200;

/** What a call waiting for its plugin hears of the open, as one line. */
function stepOf(e: ProviderEvent): string | undefined {
  // Raw build output lines are too many and too noisy to be progress; the steps say where the build is.
  if (e.type !== 'build' || e.detail === true) return undefined;
  const text = e.message.replace(/\s+/g, ' ').trim();
  if (text === '') return undefined;
  return text.length > MAX_STEP ? `${text.slice(0, MAX_STEP)}…` : text;
}

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
  /** Calls waiting for the open, told each of its steps; and the latest step, told to a call that starts waiting. */
  readonly #waiting = new Set<(step: string) => void>();
  #step: string | undefined;

  /**
   * `open` is the loaded plugin, or starts its open (told through the signal when the slot is dropped first,
   * and handing its events to `onEvent`, which tells the calls waiting for it).
   */
  constructor(prepared: PreparedEntry, open: LoadedEntry | ((cancelled: AbortSignal, onEvent: (event: ProviderEvent) => void) => Promise<LoadedEntry>)) {
    this.prepared = prepared;
    if (typeof open !== 'function') {
      this.#state = 'ready';
      this.#entry = open;
      this.#ready = Promise.resolve(open);
      this.settled = Promise.resolve();
      return;
    }
    this.#state = 'loading';
    const onEvent = (e: ProviderEvent): void => {
      const step = stepOf(e);
      if (step === undefined) return;
      this.#step = step;
      for (const w of this.#waiting) w(step);
    };
    this.#ready = open(this.cancel.signal, onEvent).catch((err: unknown) => {
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
   * While it waits, `onStep` hears where the open is (the latest step at once, then each new one).
   */
  whenOpen(tool: string, signal: AbortSignal | undefined, timeoutMs: number | undefined, onStep?: (step: string) => void): LoadedEntry | Promise<LoadedEntry> {
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
      // Whichever comes first settles the wait and stops the others (and the steps: none after the call ended).
      const settle = (outcome: () => void): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (onStep !== undefined) this.#waiting.delete(onStep);
        outcome();
      };
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () =>
                settle(() =>
                  reject(
                    new AirlockError('timeout', `${tool} timed out after ${timeoutMs} ms waiting for plugin ${this.name} to load`, {
                      details: { plugin: this.name },
                    }),
                  ),
                ),
              timeoutMs,
            );
      const onAbort = (): void => settle(() => reject(abortedWaiting(tool, this.name, signal?.reason)));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (onStep !== undefined) {
        this.#waiting.add(onStep);
        if (this.#step !== undefined) onStep(this.#step);
      }
      this.#ready.then(
        (entry) => settle(() => resolve(entry)),
        (err: AirlockError) => settle(() => reject(failed(err))),
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
