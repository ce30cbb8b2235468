/**
 * The pool's error texts, the same on every engine: each names the plugin,
 * the tool and, where one applies, the limit to change. A pool may replace
 * them (SlotPoolOptions.errors); the aborts get the signal's reason for that.
 */
import { AirlockError } from '../errors.ts';

export const slotErrors = {
  closed: (plugin: string, tool: string) =>
    new AirlockError('aborted', `call to ${plugin}/${tool} refused: plugin ${plugin} is closed (load it again to call it)`),

  abortedBeforeStart: (plugin: string, tool: string, _reason?: unknown) =>
    new AirlockError('aborted', `call to ${plugin}/${tool} was aborted before it started`),

  abortedQueued: (plugin: string, tool: string, _reason?: unknown) => new AirlockError('aborted', `call to ${plugin}/${tool} was aborted while queued`),

  abortedRunning: (plugin: string, tool: string, instance: string, _reason?: unknown) =>
    new AirlockError('aborted', `call to ${plugin}/${tool} was aborted; its ${instance} was stopped and replaced`),

  startTimeout: (plugin: string, instance: string, timeoutMs: number) =>
    new AirlockError(
      'timeout',
      `plugin ${plugin}: its ${instance} did not finish starting within ${timeoutMs} ms (its start code may never return); it was stopped`,
      { details: { timeoutMs } },
    ),

  timeout: (plugin: string, tool: string, instance: string, timeoutMs: number, granted: number) =>
    new AirlockError(
      'timeout',
      `call to ${plugin}/${tool} ran past its ${timeoutMs} ms limit (${timeoutMs < granted ? "the call's own timeout" : 'resources.timeout in plugin.yaml'}); its ${instance} was stopped and replaced`,
      { details: { timeoutMs } },
    ),

  overloaded: (plugin: string, tool: string, running: number, waiting: number, concurrency: number, queue: number) =>
    new AirlockError(
      'overloaded',
      `call to ${plugin}/${tool} refused: ${running} calls running and ${waiting} waiting (resources.concurrency ${concurrency} in plugin.yaml, limits.queue ${queue} in the host policy); retry later or raise either`,
    ),

  /** Every slot failed to start and the queue is full. */
  noneRunning: (plugin: string, tool: string, instance: string, why: string, waiting: number) =>
    new AirlockError(
      'overloaded',
      `call to ${plugin}/${tool} refused: no ${instance} is running (the last start failed: ${why}) and ${waiting} calls are already waiting; try again later`,
    ),

  closedBeforeStart: (plugin: string, tool: string) =>
    new AirlockError('aborted', `call to ${plugin}/${tool} was not started: plugin ${plugin} was closed first`),
};

export type SlotErrors = typeof slotErrors;
