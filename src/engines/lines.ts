/**
 * Splits a byte stream into lines, bounded: a line longer than `maxBytes` is
 * reported as overflowing (and its rest dropped up to its end) before any of
 * it is joined, so a stream that never sends a newline holds at most
 * `maxBytes` in memory. The unfinished line is kept as bytes in one buffer
 * (doubled as it grows), not as the chunks it came in: a plugin writing one
 * byte at a time would otherwise cost an object per byte.
 */
/** A buffer of at most this size is kept for the next line; a larger one is let go once its line is done. */
const KEEP_BYTES = 64 * 1024;

export class BoundedLines {
  readonly #maxBytes: number;
  readonly #onLine: (line: string) => void;
  readonly #onOverflow: () => void;
  #buf: Buffer = Buffer.alloc(0);
  #bytes = 0;
  /** Inside an oversized line: dropped up to its end. */
  #skipping = false;

  constructor(maxBytes: number, onLine: (line: string) => void, onOverflow: () => void) {
    this.#maxBytes = maxBytes;
    this.#onLine = onLine;
    this.#onOverflow = onOverflow;
  }

  /** Bytes of the unfinished line held now. */
  get pending(): number {
    return this.#bytes;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const piece = chunk.subarray(start, nl === -1 ? chunk.length : nl);
      start = nl === -1 ? chunk.length : nl + 1;
      if (this.#skipping) {
        if (nl !== -1) this.#skipping = false;
      } else if (this.#bytes + piece.length > this.#maxBytes) {
        this.#skipping = nl === -1;
        this.#reset();
        this.#onOverflow();
      } else if (nl === -1) {
        this.#append(piece);
      } else {
        const line = this.#bytes === 0 ? piece.toString('utf8') : this.#take(piece);
        this.#onLine(line);
      }
    }
  }

  #append(piece: Buffer): void {
    const need = this.#bytes + piece.length;
    if (need > this.#buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.#maxBytes, Math.max(need, this.#buf.length * 2, 256)));
      this.#buf.copy(grown, 0, 0, this.#bytes);
      this.#buf = grown;
    }
    piece.copy(this.#buf, this.#bytes);
    this.#bytes = need;
  }

  /** The kept bytes and `last` as one line's text; the buffer is emptied. */
  #take(last: Buffer): string {
    this.#append(last);
    const line = this.#buf.toString('utf8', 0, this.#bytes);
    this.#reset();
    return line;
  }

  #reset(): void {
    this.#bytes = 0;
    if (this.#buf.length > KEEP_BYTES) this.#buf = Buffer.alloc(0);
  }
}
