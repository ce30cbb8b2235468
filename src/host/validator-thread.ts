/**
 * The host side of the validator thread (validator-worker.ts): one thread,
 * started on first use, jobs one at a time in arrival order. A job that
 * outlives its deadline, or runs the thread out of heap, ends the thread;
 * the next job starts a new one. The event loop only posts the text and
 * reads the verdict.
 */
import { AirlockError } from '../errors.ts';
import { WorkerLane } from '../worker-lane.ts';
import { VALIDATOR_THREAD, type ValidateJob, type ValidateReply } from './validator-protocol.ts';

/** Heap of the validator thread: what one value and its check may hold (the host's memory stays bounded by it). */
const HEAP_MB = 256;

const lane = new WorkerLane<ValidateReply>({
  url: new URL(import.meta.url.endsWith('.ts') ? './validator-worker.ts' : './validator-worker.js', import.meta.url),
  name: 'airlock:validator',
  resourceLimits: { maxOldGenerationSizeMb: HEAP_MB },
  workerData: VALIDATOR_THREAD,
  // After a deadline the next check should not pay for starting a thread.
  prestart: true,
  failure: (kind, label, detail) =>
    kind === 'timeout'
      ? new AirlockError('timeout', `checking ${label} against its schema took longer than the ${detail} left of the call's timeout`)
      : kind === 'memory'
        ? new AirlockError('memory-limit', `checking ${label} against its schema needed more than ${HEAP_MB} MiB`)
        : new AirlockError('internal', `checking ${label} against its schema failed: ${detail}`),
});

/** Checks `text` against `schema` on the validator thread; rejects with `timeout` past `deadlineMs`, `memory-limit` past the heap cap. */
export function validateOffThread(key: string, schema: Record<string, unknown>, text: string, deadlineMs: number, what: string): Promise<ValidateReply> {
  return lane.run((id) => ({ id, key, schema, text }) satisfies ValidateJob, { label: what, timeoutMs: deadlineMs });
}
