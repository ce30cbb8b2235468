/**
 * Keeps the first `head` bytes and the last `tail` bytes of a stream, so a
 * process printing without end holds a fixed amount of memory. Imported by
 * the spawn helper (./helper.ts): no imports of its own.
 */
import type { CapturedOutput } from '../protocol.ts';

export class HeadTail {
  readonly #head: number;
  readonly #tail: number;
  #first: Buffer[] = [];
  #firstLen = 0;
  #last: Buffer[] = [];
  #lastLen = 0;
  total = 0;
  constructor(head: number, tail: number) {
    this.#head = head;
    this.#tail = tail;
  }
  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.#firstLen < this.#head) {
      const take = Math.min(this.#head - this.#firstLen, chunk.length);
      this.#first.push(chunk.subarray(0, take));
      this.#firstLen += take;
      chunk = chunk.subarray(take);
    }
    if (chunk.length === 0) return;
    this.#last.push(chunk);
    this.#lastLen += chunk.length;
    while (this.#lastLen - (this.#last[0]?.length ?? 0) >= this.#tail && this.#last.length > 1) {
      this.#lastLen -= this.#last.shift()?.length ?? 0;
    }
  }
  captured(): CapturedOutput {
    let tail = Buffer.concat(this.#last);
    const cut = this.total > this.#head + this.#tail;
    if (tail.length > this.#tail) tail = tail.subarray(tail.length - this.#tail);
    return { text: Buffer.concat([...this.#first, tail]).toString('utf8'), cut };
  }
}
