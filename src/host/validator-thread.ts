/**
 * The host side of the validator thread (validator-worker.ts): one thread,
 * started on first use, jobs one at a time in arrival order. A job that
 * outlives its deadline, or runs the thread out of heap, ends the thread;
 * the next job starts a new one. The event loop only posts the text and
 * reads the verdict.
 */
import { Worker } from 'node:worker_threads';
import { AirlockError } from '../errors.ts';
import { VALIDATOR_THREAD, type ValidateJob, type ValidateReply } from './validator-worker.ts';

const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './validator-worker.ts' : './validator-worker.js', import.meta.url);
/** Heap of the validator thread: what one value and its check may hold (the host's memory stays bounded by it). */
const HEAP_MB = 256;

interface Pending {
  job: ValidateJob;
  deadlineMs: number;
  what: string;
  resolve: (r: ValidateReply) => void;
  reject: (e: unknown) => void;
}

let worker: Worker | undefined;
let running: Pending | undefined;
let timer: NodeJS.Timeout | undefined;
const queue: Pending[] = [];
let nextId = 1;

/** Checks `text` against `schema` on the validator thread; rejects with `timeout` past `deadlineMs`, `memory-limit` past the heap cap. */
export function validateOffThread(key: string, schema: Record<string, unknown>, text: string, deadlineMs: number, what: string): Promise<ValidateReply> {
  return new Promise((resolve, reject) => {
    queue.push({ job: { id: nextId++, key, schema, text }, deadlineMs, what, resolve, reject });
    pump();
  });
}

function spawn(): Worker {
  const w = new Worker(WORKER_URL, { workerData: VALIDATOR_THREAD, resourceLimits: { maxOldGenerationSizeMb: HEAP_MB }, name: 'airlock:validator', env: {} });
  w.unref();
  w.on('message', (reply: ValidateReply) => {
    if (running === undefined || reply.id !== running.job.id) return;
    const p = running;
    finish();
    p.resolve(reply);
  });
  w.on('error', (err) => {
    const what = running?.what ?? 'a value';
    const oom = (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
    stop(
      w,
      oom
        ? new AirlockError('memory-limit', `checking ${what} against its schema needed more than ${HEAP_MB} MiB`, { cause: err })
        : new AirlockError('internal', `checking ${what} against its schema failed: ${err.message}`, { cause: err }),
    );
  });
  w.on('exit', (code) => stop(w, new AirlockError('internal', `the validator thread stopped (exit code ${code})`)));
  return w;
}

function pump(): void {
  if (running !== undefined) return;
  const p = queue.shift();
  if (p === undefined) return;
  running = p;
  worker ??= spawn();
  worker.ref();
  const w = worker;
  timer = setTimeout(() => {
    if (running === p) stop(w, new AirlockError('timeout', `checking ${p.what} against its schema took longer than the ${Math.round(p.deadlineMs)} ms left of the call's timeout`), true);
  }, Math.max(1, p.deadlineMs));
  w.postMessage(p.job);
}

function finish(): void {
  clearTimeout(timer);
  running = undefined;
  worker?.unref();
  pump();
}

/** Ends the thread (a deadline passed, or it died) and fails the job it was running with `reason`. */
function stop(w: Worker, reason: unknown, respawn = false): void {
  if (worker !== w) return;
  const p = running;
  worker = undefined;
  void w.terminate();
  // After a deadline the next check should not pay for starting a thread: start it now (it waits unreferenced).
  // Not after a crash: a thread that cannot start would be restarted forever.
  if (respawn) worker = spawn();
  finish();
  p?.reject(reason);
}
