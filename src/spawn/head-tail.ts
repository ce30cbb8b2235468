/**
 * Keeps the first `head` bytes and the last `tail` bytes of a stream, so a
 * process printing without end holds a fixed amount of memory. The bytes
 * are copied into two buffers (grown by doubling, the tail's up to twice its
 * size and then compacted), never kept as the chunks they came in: a process
 * writing one byte at a time would otherwise cost an object per byte.
 * Imported by the spawn helper (./helper.ts): no imports of its own.
 */
import type { CapturedOutput } from '../protocol.ts';

/** A buffer holding `used` bytes with room for at least `need`, at most `cap` (grown by doubling). */
function room(buf: Buffer, used: number, need: number, cap: number): Buffer {
  if (need <= buf.length) return buf;
  const grown = Buffer.allocUnsafe(Math.min(cap, Math.max(need, buf.length * 2, 4096)));
  buf.copy(grown, 0, 0, used);
  return grown;
}

export class HeadTail {
  readonly #head: number;
  readonly #tail: number;
  #first: Buffer = Buffer.alloc(0);
  #firstLen = 0;
  /** The last bytes seen: the tail is its last `#tail` of `#lastLen`. */
  #last: Buffer = Buffer.alloc(0);
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
      this.#first = room(this.#first, this.#firstLen, this.#firstLen + take, this.#head);
      chunk.copy(this.#first, this.#firstLen, 0, take);
      this.#firstLen += take;
      chunk = chunk.subarray(take);
    }
    if (chunk.length === 0 || this.#tail === 0) return;
    if (chunk.length >= this.#tail) {
      this.#last = room(this.#last, 0, this.#tail, 2 * this.#tail);
      chunk.copy(this.#last, 0, chunk.length - this.#tail);
      this.#lastLen = this.#tail;
      return;
    }
    const cap = 2 * this.#tail;
    if (this.#lastLen + chunk.length > cap) {
      // Full: the last bytes still needed move to the front (once per `tail` bytes or so).
      const keep = this.#tail - chunk.length;
      this.#last.copy(this.#last, 0, this.#lastLen - keep, this.#lastLen);
      this.#lastLen = keep;
    }
    this.#last = room(this.#last, this.#lastLen, this.#lastLen + chunk.length, cap);
    chunk.copy(this.#last, this.#lastLen);
    this.#lastLen += chunk.length;
  }
  captured(): CapturedOutput {
    const tail = this.#last.subarray(Math.max(0, this.#lastLen - this.#tail), this.#lastLen);
    const cut = this.total > this.#head + this.#tail;
    return { text: Buffer.concat([this.#first.subarray(0, this.#firstLen), tail]).toString('utf8'), cut };
  }
}
