/** Abort helpers for loads and calls. */
import { AirlockError } from '../errors.ts';

export function isAborted(signal: AbortSignal | undefined): signal is AbortSignal {
  return signal?.aborted === true;
}

/**
 * Waits for `promise` unless the signal fires first; a result that arrives
 * after the abort goes to `late` (so what it holds can be released).
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string, late: (value: T) => void): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    let abandoned = false;
    const onAbort = (): void => {
      abandoned = true;
      reject(new AirlockError('aborted', `${what} was aborted`, { cause: signal.reason }));
    };
    // A signal aborted already fires no event: abandoned at once.
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (abandoned) late(value);
        else resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!abandoned) reject(err);
      },
    );
  });
}
