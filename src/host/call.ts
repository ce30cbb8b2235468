/**
 * One tool call through an agent: the input checked against the tool's
 * schema before anything reaches a sandbox, the agent's own queue, its fair
 * share of the pool, the engine, then the result checked (depth, JSON, output schema).
 */
import type PQueue from 'p-queue';
import type { CallResult, EngineUsage } from '../engines/types.ts';
import { AirlockError, isAirlockError } from '../errors.ts';
import { isAborted } from './abortable.ts';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.ts';
import type { LoadedTool } from './loaded.ts';
import type { PluginSlot } from './slot.ts';
import type { ToolCallOptions, ToolCallResult } from './types.ts';
import { callUsage, NetworkTally, type CallUsage } from '../observe/usage.ts';

/** Least time a result's schema check gets when the call used up its timeout in the plugin (a large result is checked off the event loop). */
const MIN_CHECK_MS = 100;

/** The agent's line: calls in flight and waiting, and how it is named in errors. */
export interface CallLane {
  queue: PQueue;
  limit: number;
  id: string;
  label: string;
}

export async function callTool(
  lane: CallLane,
  slot: PluginSlot,
  tool: LoadedTool,
  name: string,
  input: unknown,
  options: ToolCallOptions,
): Promise<ToolCallResult> {
  const started = performance.now();
  const { signal } = options;
  if (options.timeout !== undefined && !(Number.isFinite(options.timeout) && options.timeout > 0)) {
    throw new AirlockError('invalid-input', `the timeout for ${name} must be a positive number of milliseconds (got ${String(options.timeout)})`);
  }
  // Checking the input and the result counts against the call's timeout (a large value is checked off the event loop).
  const timeoutMs = Math.min(options.timeout ?? Infinity, slot.prepared.grants.resources.timeoutMs);
  const text = JSON.stringify(input);
  // Nothing reaches a sandbox before the input matches the tool's schema.
  const checking = tool.validators.checkInput(name, input, text ?? '', timeoutMs);
  if (checking !== undefined) await checking;
  if (signal?.aborted === true) throw aborted(name, signal);
  // A plugin loading in the background is waited for, within the caller's timeout (the plugin's granted timeout bounds its run, not its build).
  let entry = slot.entry;
  let runTimeout = options.timeout;
  if (entry === undefined) {
    const from = performance.now();
    entry = await slot.whenOpen(name, signal, runTimeout === undefined ? undefined : Math.max(0, runTimeout - (from - started)), options.onProgress);
    if (runTimeout !== undefined) runTimeout = Math.max(1, runTimeout - (performance.now() - from));
  }
  const opened = entry;
  const { queue } = lane;
  if (queue.size >= lane.limit) {
    throw new AirlockError('overloaded', `agent ${lane.label} has ${queue.size} calls waiting (limit ${lane.limit}); retry later`, {
      details: { agent: lane.id, waiting: queue.size, limit: lane.limit },
    });
  }
  // The caller's signal may take a call out of the agent's queue while it
  // waits; once it runs, the engine owns the abort and the agent's slot
  // stays taken until the engine has really stopped it (p-queue would free
  // the slot at once, letting an agent that aborts and retries exceed its limit).
  const waiting = new AbortController();
  let running = false;
  const onAbort = (): void => {
    if (!running) waiting.abort(signal?.reason);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let waited = 0;
  let ranAt = 0;
  let result: CallResult;
  const inputBytes = Buffer.byteLength(text ?? '', 'utf8');
  let tally: NetworkTally | undefined;
  const usageOf = (engine: EngineUsage | undefined, outputBytes: number): CallUsage =>
    callUsage(engine, { wallMs: performance.now() - started, inputBytes, outputBytes, network: tally ?? new NetworkTally() });
  try {
    result = await queue.add(
      async () => {
        running = true;
        await opened.share.enter(signal, `call to ${name}`);
        tally = opened.tap.begin();
        try {
          waited = performance.now() - started;
          ranAt = performance.now();
          return await opened.opened.instance.call(tool.info.tool, text, { signal, timeoutMs: runTimeout });
        } finally {
          opened.tap.end(tally);
          opened.share.leave();
        }
      },
      { signal: waiting.signal },
    );
  } catch (err) {
    // A call that reached the engine carries its usage, whatever it ended with.
    if (isAirlockError(err) && tally !== undefined) err.details.usage = usageOf(err.details.usage as EngineUsage | undefined, 0);
    if (isAirlockError(err)) throw err;
    // (Read again: the signal may have fired while the call ran.)
    if (isAborted(signal)) throw aborted(name, signal, err);
    throw new AirlockError('internal', `call to ${name} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (nestsDeeperThan(result.output)) {
    throw new AirlockError('invalid-output', `${name} returned JSON nested more than ${MAX_JSON_DEPTH} levels deep`, { details: { logs: result.logs } });
  }
  let value: unknown;
  try {
    value = JSON.parse(result.output);
  } catch (err) {
    throw new AirlockError('invalid-output', `${name} returned text that is not JSON: ${JSON.stringify(result.output.slice(0, 80))}`, {
      cause: err,
      details: { logs: result.logs },
    });
  }
  const checked = tool.validators.checkOutput(name, value, result.output, Math.max(MIN_CHECK_MS, timeoutMs - (performance.now() - ranAt)));
  if (checked !== undefined) await checked;
  const usage = usageOf(result.usage, Buffer.byteLength(result.output, 'utf8'));
  return { value, output: result.output, logs: result.logs, metrics: { ...result.metrics, agentQueueMs: waited, totalMs: usage.wallMs }, usage };
}

function aborted(name: string, signal: AbortSignal, cause?: unknown): AirlockError {
  return new AirlockError('aborted', `call to ${name} was aborted${signal.reason instanceof Error ? `: ${signal.reason.message}` : ''}`, {
    cause: cause ?? signal.reason,
  });
}
