/**
 * Resident memory of this process, after a full garbage collection, for the
 * in-process targets (in-thread instances, worker threads): what loading
 * and warming N instances adds, divided by N, is the memory per live
 * instance (JS heap + wasm linear memory + its share of compiled code).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | undefined;

function gc(): void {
  if (gcFn === undefined) {
    // Node exposes gc() only with --expose-gc; the flag can be set at run time, then read from a new context.
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
}

export function residentBytes(): number {
  gc();
  gc();
  return process.memoryUsage().rss;
}
