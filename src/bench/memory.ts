/**
 * Memory of this process after a full garbage collection, for the
 * in-process targets: the worker engine's memory per live instance is the
 * resident memory that loading and warming N workers adds, divided by N
 * (each worker's JS heap and linear memory, and a share of the compiled
 * code); an in-thread instance's is the JS heap it adds plus its linear
 * memory (resident memory moves by more than one small instance between
 * two readings).
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

export function heapBytes(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
