/**
 * Ending a worker thread without cutting its start short (the wasm engine's
 * workers, src/engines/wasm/standby.ts, and the worker lanes,
 * src/worker-lane.ts).
 */
import type { Worker } from 'node:worker_threads';

/**
 * Terminates a worker, but only once its start is over (`started` settled: it
 * said it is ready, or it failed, or it died). V8 keeps one process-wide
 * registry of JIT code pages, and threads that register and free code pages
 * at once can make it lose one: the whole process aborts (`Check failed:
 * jit_page.has_value()`, exit 133; nodejs/node#64500). A thread torn down
 * while it bootstraps, imports and compiles frees its pages in the middle of
 * that, so a start always runs to its end first; one that never ends is
 * still terminated after `boundMs`. Resolves once the thread is gone.
 */
export function retire(worker: Worker, started: Promise<unknown>, boundMs = START_BOUND_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, boundMs);
    timer.unref();
  });
  return Promise.race([started.then(noop, noop), bound]).then(async () => {
    clearTimeout(timer);
    await worker.terminate();
  });
}

const noop = (): void => {};

/** How long a start may run before it is terminated anyway (a blank start takes well under a second, even on a busy machine). */
export const START_BOUND_MS = 60_000;
