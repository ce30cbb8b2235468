/**
 * Splits a byte stream into lines, bounded: a line longer than `maxBytes` is
 * reported as overflowing (and its rest dropped up to its end) before any of
 * it is joined, so a stream that never sends a newline holds at most
 * `maxBytes` in memory.
 */
export class BoundedLines {
  readonly #maxBytes: number;
  readonly #onLine: (line: string) => void;
  readonly #onOverflow: () => void;
  #parts: Buffer[] = [];
  #bytes = 0;
  /** Inside an oversized line: dropped up to its end. */
  #skipping = false;

  constructor(maxBytes: number, onLine: (line: string) => void, onOverflow: () => void) {
    this.#maxBytes = maxBytes;
    this.#onLine = onLine;
    this.#onOverflow = onOverflow;
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
        this.#parts = [];
        this.#bytes = 0;
        this.#onOverflow();
      } else if (nl === -1) {
        this.#parts.push(Buffer.from(piece));
        this.#bytes += piece.length;
      } else {
        const line = this.#parts.length === 0 ? piece : Buffer.concat([...this.#parts, piece]);
        this.#parts = [];
        this.#bytes = 0;
        this.#onLine(line.toString('utf8'));
      }
    }
  }
}
