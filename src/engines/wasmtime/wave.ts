/**
 * The little WAVE (WebAssembly Value Encoding, the text `wasmtime run
 * --invoke` reads and prints) that this engine needs: string literals for
 * the call's arguments, and the printed `result<string, tool-error>`.
 * Format as written by wasm-wave 0.254 (wasmtime 48): strings escape `\\`,
 * `"`, `'`, tab, CR and LF with a backslash and other non-printable
 * characters as `\u{hex}`; records print as `{code: "…", message: "…"}`.
 */

/** A WAVE string literal for `text`. Every control character is escaped, so the result is one line with no NUL. */
export function waveString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === "'") out += "\\'";
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff)) out += `\\u{${cp.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}

export type ToolResult = { ok: true; value: string } | { ok: false; code: string; message: string };

/** Where a string literal's text lies in the source: between its quotes, escapes still in it. */
interface Span {
  from: number;
  to: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
/** What each one-character escape (`\\`, `\'`, `\"`, `\t`, `\n`, `\r`) stands for, by the escaped character's code; -1: none. */
const SIMPLE_ESCAPES = new Int32Array(128).fill(-1);
for (const [c, v] of [
  ['\\', '\\'],
  ["'", "'"],
  ['"', '"'],
  ['t', '\t'],
  ['n', '\n'],
  ['r', '\r'],
] as const)
  SIMPLE_ESCAPES[c.charCodeAt(0)] = v.charCodeAt(0);

function simpleEscape(c: number): number {
  return c < 128 ? (SIMPLE_ESCAPES[c] as number) : -1;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * A `\u{hex}` escape whose `u` is at `i`: its code point times 16 plus its length after the `u` (no object
 * per escape), or -1 when malformed.
 */
function unicodeEscape(src: string, i: number): number {
  if (src.charCodeAt(i + 1) !== 0x7b) return -1;
  let cp = 0;
  let k = i + 2;
  for (; k < i + 8; k++) {
    const d = hexDigit(src.charCodeAt(k));
    if (d < 0) break;
    cp = cp * 16 + d;
  }
  if (k === i + 2 || src.charCodeAt(k) !== 0x7d || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  return cp * 16 + (k + 1 - i);
}

/**
 * A parse position in the printed text. Guest output reaches this on the host's event loop (up to the
 * output and log limits: tens of MiB), so it runs over character codes without allocating, checks a string
 * literal without decoding it, and decodes only the one result that parses (decode()).
 */
class Cursor {
  readonly src: string;
  pos: number;
  constructor(src: string, pos: number) {
    this.src = src;
    this.pos = pos;
  }
  skipSpace(): void {
    for (let c = this.src.charCodeAt(this.pos); c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a; c = this.src.charCodeAt(++this.pos));
  }
  eat(lit: string): boolean {
    this.skipSpace();
    if (this.src.startsWith(lit, this.pos)) {
      this.pos += lit.length;
      return true;
    }
    return false;
  }
  label(): string | undefined {
    this.skipSpace();
    const m = /^%?[a-z][a-z0-9]*(-[a-z0-9]+)*/i.exec(this.src.slice(this.pos, this.pos + 256));
    if (m === null) return undefined;
    this.pos += m[0].length;
    return m[0].replace(/^%/, '');
  }
  /** A single-line string literal, checked but not decoded; undefined when malformed. */
  string(): Span | undefined {
    this.skipSpace();
    const src = this.src;
    if (src.charCodeAt(this.pos) !== QUOTE) return undefined;
    const from = this.pos + 1;
    for (let i = from; i < src.length; ) {
      const c = src.charCodeAt(i);
      if (c === QUOTE) {
        this.pos = i + 1;
        return { from, to: i };
      }
      if (c === NEWLINE) return undefined;
      if (c !== BACKSLASH) {
        i++;
        continue;
      }
      const e = src.charCodeAt(i + 1);
      if (simpleEscape(e) >= 0) i += 2;
      else if (e === 0x75) {
        const u = unicodeEscape(src, i + 1);
        if (u < 0) return undefined;
        i += 1 + (u & 15);
      } else return undefined;
    }
    return undefined;
  }
  /** A checked string literal's value (string() said its escapes are well formed). */
  decode({ from, to }: Span): string {
    const src = this.src;
    const first = src.indexOf('\\', from);
    if (first === -1 || first >= to) return src.slice(from, to);
    // Code units into one buffer, decoded once: no string per escape.
    const units = new Uint16Array(to - from);
    let n = 0;
    for (let i = from; i < to; ) {
      const c = src.charCodeAt(i);
      if (c !== BACKSLASH) {
        units[n++] = c;
        i++;
        continue;
      }
      const simple = simpleEscape(src.charCodeAt(i + 1));
      if (simple >= 0) {
        units[n++] = simple;
        i += 2;
        continue;
      }
      const u = unicodeEscape(src, i + 1);
      const cp = Math.floor(u / 16);
      if (cp > 0xffff) {
        units[n++] = 0xd800 + ((cp - 0x10000) >> 10);
        units[n++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
      } else units[n++] = cp;
      i += 1 + (u & 15);
    }
    return UTF16.decode(units.subarray(0, n));
  }
}

const UTF16 = new TextDecoder('utf-16le');

/** Parses exactly one `result<string, tool-error>` value filling all of `src` (surrounding whitespace allowed). */
export function parseToolResult(src: string, from = 0): ToolResult | undefined {
  const c = new Cursor(src, from);
  let spans: { ok: true; value: Span } | { ok: false; code: Span; message: Span };
  if (c.eat('ok(')) {
    const value = c.string();
    if (value === undefined || !c.eat(')')) return undefined;
    spans = { ok: true, value };
  } else if (c.eat('err(')) {
    if (!c.eat('{')) return undefined;
    const fields: Record<string, Span> = {};
    if (!c.eat(':')) {
      for (;;) {
        const name = c.label();
        if (name === undefined || !c.eat(':')) return undefined;
        const value = c.string();
        if (value === undefined) return undefined;
        fields[name] = value;
        if (c.eat(',')) continue;
        break;
      }
    }
    if (!c.eat('}') || !c.eat(')')) return undefined;
    const code = fields.code;
    const message = fields.message;
    if (code === undefined || message === undefined) return undefined;
    spans = { ok: false, code, message };
  } else {
    return undefined;
  }
  c.skipSpace();
  if (c.pos !== src.length) return undefined;
  return spans.ok ? { ok: true, value: c.decode(spans.value) } : { ok: false, code: c.decode(spans.code), message: c.decode(spans.message) };
}

/**
 * Finds the result wasmtime printed at the end of `stdout`, after whatever
 * the guest itself wrote there (both share the process's stdout). The
 * rightmost start that parses to the end is the printed result: the guest's
 * own text comes before it, and a suffix starting inside the printed value
 * cannot parse because every quote in its strings is escaped.
 */
export function splitToolResult(stdout: string): { guest: string; result: ToolResult } | undefined {
  const end = stdout.endsWith('\n') ? stdout.length - 1 : stdout.length;
  const body = stdout.slice(0, end);
  const starts: number[] = [];
  for (const marker of ['ok("', 'err({']) {
    let at = body.lastIndexOf(marker);
    // Guest text may contain the markers too; try each start from the right.
    for (let n = 0; at >= 0 && n < 64; n++) {
      starts.push(at);
      at = at === 0 ? -1 : body.lastIndexOf(marker, at - 1);
    }
  }
  starts.sort((a, b) => b - a);
  for (const at of starts) {
    const result = parseToolResult(body, at);
    if (result !== undefined) return { guest: body.slice(0, at), result };
  }
  return undefined;
}
