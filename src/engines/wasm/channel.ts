/**
 * The fast channel between the host and one wasm worker: a growable
 * SharedArrayBuffer holding one request or one response at a time.
 *
 * Layout: a header of Int32 slots, then UTF-8 data.
 *   [STATE]  IDLE -> REQUEST (host, then notify) -> RESPONSE (worker, then notify) -> IDLE (host)
 *   [LEN_A, LEN_B, LEN_C] byte lengths of up to three strings stored back to back after the header
 *   [KIND]   response: 0 ok (a=output), 1 error (a=SerializedError JSON); b=stdout, c=stderr
 *   [FLAGS]  response: bit 0 = logs truncated
 *   [SPARE]  set by the worker while it holds an instance ready for the next
 *            call (per-call isolation builds one after each call); the host
 *            prefers such a worker
 *   [RESP_SEQ] bumped by the worker after each response; the host waits on
 *            this slot, never on STATE, so its own request notify does not
 *            wake it
 * A request stores a=tool, b=input.
 *
 * The host never blocks: it waits with Atomics.waitAsync. The worker blocks in
 * Atomics.wait between calls (with a short timeout so its event loop still
 * turns now and then).
 */
import type { SerializedError } from '../../errors.ts';
import type { WasmCallRequest, WasmCallResponse } from '../../protocol.ts';

export const STATE = 0;
const LEN_A = 1;
const LEN_B = 2;
const LEN_C = 3;
const KIND = 4;
const FLAGS = 5;
/** Response counter: the worker bumps and notifies it; only the host waits on it. */
export const RESP_SEQ = 6;
/** 1 while the worker holds a built instance for its next call. */
export const SPARE = 7;
const HEADER_BYTES = 32;

export const IDLE = 0;
export const REQUEST = 1;
export const RESPONSE = 2;
/** Set by the host when the worker must stop. */
export const CLOSED = 3;

const INITIAL_BYTES = 64 * 1024;

export class ChannelFullError extends Error {}

export class Channel {
  readonly sab: SharedArrayBuffer;
  readonly ctl: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #encoder = new TextEncoder();
  // ignoreBOM: a leading U+FEFF is part of the text (a tool name, an input), not a byte-order mark to drop.
  readonly #decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.ctl = new Int32Array(sab, 0, HEADER_BYTES / 4);
    // Length-tracking view: follows grow() done by either side.
    this.#bytes = new Uint8Array(sab);
  }

  /** A new channel able to grow to `maxBytes` of data. */
  static create(maxBytes: number): Channel {
    const max = HEADER_BYTES + Math.max(maxBytes, INITIAL_BYTES);
    const SAB = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer;
    return new Channel(new SAB(HEADER_BYTES + INITIAL_BYTES, { maxByteLength: max }));
  }

  get state(): number {
    return Atomics.load(this.ctl, STATE);
  }

  /** Whether the worker has an instance ready for its next call. */
  get spareReady(): boolean {
    return Atomics.load(this.ctl, SPARE) === 1;
  }

  /** Worker side: announce (or withdraw) a ready instance. */
  setSpare(ready: boolean): void {
    Atomics.store(this.ctl, SPARE, ready ? 1 : 0);
  }

  #ensure(bytes: number): void {
    const need = HEADER_BYTES + bytes;
    const sab = this.sab as unknown as { byteLength: number; maxByteLength: number; grow(n: number): void };
    if (need <= sab.byteLength) return;
    if (need > sab.maxByteLength)
      throw new ChannelFullError(`message of up to ${bytes} bytes is larger than the channel allows (${sab.maxByteLength - HEADER_BYTES})`);
    let size = sab.byteLength;
    while (size < need) size *= 2;
    sab.grow(Math.min(size, sab.maxByteLength));
  }

  #write(a: string, b: string, c: string): void {
    // Worst case 3 bytes per UTF-16 unit; only grow when that bound does not fit.
    this.#ensure((a.length + b.length + c.length) * 3);
    let off = HEADER_BYTES;
    const la = this.#encoder.encodeInto(a, this.#bytes.subarray(off)).written;
    off += la;
    const lb = this.#encoder.encodeInto(b, this.#bytes.subarray(off)).written;
    off += lb;
    const lc = c === '' ? 0 : this.#encoder.encodeInto(c, this.#bytes.subarray(off)).written;
    this.ctl[LEN_A] = la;
    this.ctl[LEN_B] = lb;
    this.ctl[LEN_C] = lc;
  }

  #read(): [string, string, string] {
    const la = this.ctl[LEN_A]!;
    const lb = this.ctl[LEN_B]!;
    const lc = this.ctl[LEN_C]!;
    let off = HEADER_BYTES;
    const a = this.#decoder.decode(this.#bytes.subarray(off, off + la));
    off += la;
    const b = lb === 0 ? '' : this.#decoder.decode(this.#bytes.subarray(off, off + lb));
    off += lb;
    const c = lc === 0 ? '' : this.#decoder.decode(this.#bytes.subarray(off, off + lc));
    return [a, b, c];
  }

  // ---- host side ----

  /** Writes a request and wakes the worker. Throws ChannelFullError when it cannot fit. */
  sendRequest(req: WasmCallRequest): void {
    this.#write(req.tool, req.input, '');
    Atomics.store(this.ctl, STATE, REQUEST);
    Atomics.notify(this.ctl, STATE);
  }

  readResponse(): WasmCallResponse {
    const [a, stdout, stderr] = this.#read();
    const truncated = (this.ctl[FLAGS]! & 1) !== 0;
    Atomics.store(this.ctl, STATE, IDLE);
    if (this.ctl[KIND] === 0) return { kind: 'ok', output: a, stdout, stderr, truncated };
    return { kind: 'error', error: JSON.parse(a) as SerializedError, stdout, stderr, truncated };
  }

  close(): void {
    Atomics.store(this.ctl, STATE, CLOSED);
    Atomics.notify(this.ctl, STATE);
    // Also release the host's own waiter on this channel.
    Atomics.add(this.ctl, RESP_SEQ, 1);
    Atomics.notify(this.ctl, RESP_SEQ);
  }

  // ---- worker side ----

  readRequest(): WasmCallRequest {
    const [tool, input] = this.#read();
    return { tool, input };
  }

  sendResponse(res: WasmCallResponse): void {
    if (res.kind === 'ok') {
      this.#write(res.output, res.stdout, res.stderr);
      this.ctl[KIND] = 0;
    } else {
      this.#write(JSON.stringify(res.error), res.stdout, res.stderr);
      this.ctl[KIND] = 1;
    }
    this.ctl[FLAGS] = res.truncated ? 1 : 0;
    Atomics.store(this.ctl, STATE, RESPONSE);
    Atomics.add(this.ctl, RESP_SEQ, 1);
    Atomics.notify(this.ctl, RESP_SEQ);
  }
}
