/**
 * Wake-ups on one Pod's changes: a watch on its name through the API server, so a waiter (./pod.ts: until the Pod
 * runs, until it is gone) reads the Pod when it changed instead of every 100 ms. The poll stays as the fallback: a
 * slow one while the watch is open (an event lost between a read and the wait is caught by it), the 100 ms one
 * when the watch cannot be opened or has ended (client-node ends a watch after 30 s without an event).
 */
import type { KubeConfig } from '@kubernetes/client-node';

/** The poll beside an open watch. */
const WATCHED_POLL_MS = 1000;
/** The poll without one (the engine's poll before watches). */
export const POLL_MS = 100;

export class PodWake {
  /** Changes seen so far: a waiter that read the Pod at `seen` wakes at once if one came since. */
  #seq = 0;
  #live = false;
  #wake: (() => void) | undefined;
  #controller: AbortController | undefined;

  /** Opens the watch on Pod `name` (resolves once the API server accepted it, or failed: then polls only). */
  static async open(kc: KubeConfig, namespace: string, name: string): Promise<PodWake> {
    const wake = new PodWake();
    try {
      const { Watch } = await import('@kubernetes/client-node');
      wake.#controller = await new Watch(kc).watch(
        `/api/v1/namespaces/${namespace}/pods`,
        { fieldSelector: `metadata.name=${name}` },
        () => wake.poke(),
        () => {
          wake.#live = false;
          wake.poke();
        },
      );
      wake.#live = true;
    } catch {
      wake.#live = false;
    }
    return wake;
  }

  /** Whether the watch is open (else waits are the 100 ms poll). */
  get live(): boolean {
    return this.#live;
  }

  /** The count of changes so far; pass it to next() after reading the Pod. */
  get seq(): number {
    return this.#seq;
  }

  /** Wakes a waiter now (an abort signal). */
  poke(): void {
    this.#changed();
  }

  #changed(): void {
    this.#seq++;
    this.#wake?.();
  }

  /** Resolves on the first change after `seen`, or after the poll interval. */
  async next(seen: number): Promise<void> {
    if (this.#seq !== seen) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      timer = setTimeout(resolve, this.#live ? WATCHED_POLL_MS : POLL_MS);
    });
    clearTimeout(timer);
    this.#wake = undefined;
  }

  /** Ends the watch (idempotent). */
  close(): void {
    this.#live = false;
    this.#controller?.abort();
    this.#controller = undefined;
  }
}
