/**
 * The names a component imports and exports at its top level (e.g.
 * `wasi:io/streams@0.2.3`, `airlock:plugin/tools@0.1.0`): the `component`
 * section of the CNCF wasm OCI config. Read from the component binary's
 * import (10) and export (11) sections; nested components and everything
 * else are skipped by their section sizes. Linear in the bytes, whatever
 * they hold: every step consumes input, and counts are bounded by what is left.
 */
export interface ComponentWorld {
  imports: string[];
  exports: string[];
}

const PREAMBLE = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);

class Reader {
  pos: number;
  readonly bytes: Uint8Array;
  readonly end: number;
  constructor(bytes: Uint8Array, start: number, end: number) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }
  byte(): number {
    if (this.pos >= this.end) throw new RangeError('truncated');
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new RangeError('bad LEB128');
  }
  name(): string {
    const length = this.u32();
    if (this.pos + length > this.end) throw new RangeError('truncated');
    const text = Buffer.from(this.bytes.subarray(this.pos, this.pos + length)).toString('utf8');
    this.pos += length;
    return text;
  }
}

/** importname' / exportname': 0x00 len name (0x01 adds a version suffix this reader does not know: refused). */
function externName(r: Reader): string {
  const kind = r.byte();
  if (kind !== 0x00) throw new RangeError('unknown name form');
  return r.name();
}

function externDesc(r: Reader): void {
  const kind = r.byte();
  if (kind === 0x00) {
    r.byte(); // 0x11: core module
    r.u32();
  } else if (kind === 0x01 || kind === 0x04 || kind === 0x05) r.u32();
  else if (kind === 0x02 || kind === 0x03) {
    // valuebound (0x00 idx | 0x01 valtype) / typebound (0x00 idx | 0x01 sub resource)
    if (r.byte() === 0x00 || kind === 0x02) r.u32();
  } else throw new RangeError('unknown externdesc');
}

/** The top-level import and export names, or undefined when the bytes are not a component this reader understands. */
export function componentWorld(bytes: Uint8Array): ComponentWorld | undefined {
  if (bytes.length < PREAMBLE.length || !PREAMBLE.equals(Buffer.from(bytes.subarray(0, PREAMBLE.length)))) return undefined;
  const world: ComponentWorld = { imports: [], exports: [] };
  try {
    const r = new Reader(bytes, PREAMBLE.length, bytes.length);
    while (r.pos < r.end) {
      const id = r.byte();
      const size = r.u32();
      const end = r.pos + size;
      if (end > r.end) return undefined;
      if (id === 10 || id === 11) {
        const s = new Reader(bytes, r.pos, end);
        const count = s.u32();
        for (let i = 0; i < count && s.pos < end; i++) {
          const name = externName(s);
          if (id === 10) {
            externDesc(s);
            world.imports.push(name);
          } else {
            const sort = s.byte();
            if (sort === 0x00) s.byte();
            s.u32();
            if (s.byte() === 0x01) externDesc(s);
            world.exports.push(name);
          }
        }
      }
      r.pos = end;
    }
  } catch {
    return undefined;
  }
  return world;
}
