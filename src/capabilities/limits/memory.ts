/**
 * Caps the linear memory a core module defines by rewriting the maximum in
 * its memory section before the host compiles it. `memory.grow` past the cap
 * then fails inside the guest (returns -1), which its allocator turns into a
 * trap or an error; the engine reports a trap at the cap as `memory-limit`.
 * Imported memories are left alone: their owner (another core module of the
 * same component) is capped instead.
 */
import { AirlockError } from '../../errors.ts';

export const WASM_PAGE = 65536;

interface Reader {
  bytes: Uint8Array;
  pos: number;
}

function readU32(r: Reader): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = r.bytes[r.pos++];
    if (b === undefined) throw new AirlockError('build-failed', 'malformed core module: truncated LEB128 number');
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
    shift += 7;
    if (shift > 35) throw new AirlockError('build-failed', 'malformed core module: LEB128 number too long');
  }
}

function readU64(r: Reader): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = r.bytes[r.pos++];
    if (b === undefined) throw new AirlockError('build-failed', 'malformed core module: truncated LEB128 number');
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return result;
    shift += 7n;
    if (shift > 70n) throw new AirlockError('build-failed', 'malformed core module: LEB128 number too long');
  }
}

function writeU32(out: number[], value: number): void {
  let v = value;
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

function writeU64(out: number[], value: bigint): void {
  let v = value;
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
}

export interface MemoryLimits {
  minPages: bigint;
  maxPages: bigint | undefined;
  shared: boolean;
  memory64: boolean;
}

/** The memories a module defines (not imports), as declared. */
export function definedMemories(bytes: Uint8Array): MemoryLimits[] {
  const found: MemoryLimits[] = [];
  rewrite(bytes, (m) => {
    found.push(m);
    return m;
  });
  return found;
}

/**
 * Returns `bytes` with every defined memory's maximum lowered to
 * `maxBytes` (rounded down to whole pages). Throws `memory-limit` when a
 * memory's declared minimum alone is over the cap.
 */
export function capMemory(bytes: Uint8Array, maxBytes: number, what = 'module'): Uint8Array {
  const cap = BigInt(Math.max(0, Math.floor(maxBytes / WASM_PAGE)));
  return rewrite(bytes, (m) => {
    if (m.minPages > cap) {
      throw new AirlockError(
        'memory-limit',
        `${what} needs at least ${m.minPages * BigInt(WASM_PAGE)} bytes of linear memory at start, over resources.memory (${maxBytes} bytes); raise resources.memory in plugin.yaml (and the host policy)`,
        { details: { neededBytes: Number(m.minPages) * WASM_PAGE, limitBytes: maxBytes } },
      );
    }
    const maxPages = m.maxPages === undefined || m.maxPages > cap ? cap : m.maxPages;
    return { ...m, maxPages };
  });
}

function rewrite(bytes: Uint8Array, change: (m: MemoryLimits) => MemoryLimits): Uint8Array {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new AirlockError('build-failed', 'not a core WebAssembly module (bad magic)');
  }
  const r: Reader = { bytes, pos: 8 };
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  while (r.pos < bytes.length) {
    const start = r.pos;
    const id = bytes[r.pos++]!;
    const size = readU32(r);
    const bodyStart = r.pos;
    const bodyEnd = bodyStart + size;
    if (bodyEnd > bytes.length) throw new AirlockError('build-failed', 'truncated core WebAssembly module');
    if (id !== 5) {
      parts.push(bytes.subarray(start, bodyEnd));
      r.pos = bodyEnd;
      continue;
    }
    const count = readU32(r);
    const body: number[] = [];
    writeU32(body, count);
    for (let i = 0; i < count; i++) {
      const flags = bytes[r.pos++]!;
      const memory64 = (flags & 0x04) !== 0;
      const shared = (flags & 0x02) !== 0;
      const hasMax = (flags & 0x01) !== 0;
      // Bit 3 (custom page sizes) would change what a page is: refuse rather than mis-cap.
      if ((flags & ~0x07) !== 0) throw new AirlockError('build-failed', `unsupported memory flags 0x${flags.toString(16)} in core module`);
      const readN = memory64 ? readU64 : (x: Reader) => BigInt(readU32(x));
      const minPages = readN(r);
      const maxPages = hasMax ? readN(r) : undefined;
      const next = change({ minPages, maxPages, shared, memory64 });
      let newFlags = flags & ~0x01;
      if (next.maxPages !== undefined) newFlags |= 0x01;
      body.push(newFlags);
      const writeN = memory64 ? writeU64 : (o: number[], v: bigint) => writeU32(o, Number(v));
      writeN(body, next.minPages);
      if (next.maxPages !== undefined) writeN(body, next.maxPages);
    }
    if (r.pos !== bodyEnd) throw new AirlockError('build-failed', 'malformed memory section in core module');
    const header: number[] = [5];
    writeU32(header, body.length);
    parts.push(Uint8Array.from(header), Uint8Array.from(body));
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
