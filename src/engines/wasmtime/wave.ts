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

class Cursor {
  readonly src: string;
  pos: number;
  constructor(src: string, pos: number) {
    this.src = src;
    this.pos = pos;
  }
  skipSpace(): void {
    while (this.pos < this.src.length && ' \t\r\n'.includes(this.src[this.pos] ?? '')) this.pos++;
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
  /** A single-line string literal; undefined when malformed. */
  string(): string | undefined {
    this.skipSpace();
    if (this.src[this.pos] !== '"') return undefined;
    let i = this.pos + 1;
    const parts: string[] = [];
    let start = i;
    while (i < this.src.length) {
      const c = this.src[i];
      if (c === '"') {
        parts.push(this.src.slice(start, i));
        this.pos = i + 1;
        return parts.join('');
      }
      if (c === '\n') return undefined;
      if (c === '\\') {
        parts.push(this.src.slice(start, i));
        const e = this.src[i + 1];
        const simple: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', t: '\t', n: '\n', r: '\r' };
        if (e !== undefined && simple[e] !== undefined) {
          parts.push(simple[e]);
          i += 2;
        } else if (e === 'u') {
          const m = /^\\u\{([0-9a-fA-F]{1,6})\}/.exec(this.src.slice(i, i + 10));
          if (m === null || m[1] === undefined) return undefined;
          const cp = Number.parseInt(m[1], 16);
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
          parts.push(String.fromCodePoint(cp));
          i += m[0].length;
        } else {
          return undefined;
        }
        start = i;
        continue;
      }
      i++;
    }
    return undefined;
  }
}

/** Parses exactly one `result<string, tool-error>` value filling all of `src` (surrounding whitespace allowed). */
export function parseToolResult(src: string, from = 0): ToolResult | undefined {
  const c = new Cursor(src, from);
  let result: ToolResult | undefined;
  if (c.eat('ok(')) {
    const value = c.string();
    if (value === undefined || !c.eat(')')) return undefined;
    result = { ok: true, value };
  } else if (c.eat('err(')) {
    if (!c.eat('{')) return undefined;
    const fields: Record<string, string> = {};
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
    result = { ok: false, code, message };
  } else {
    return undefined;
  }
  c.skipSpace();
  return c.pos === src.length ? result : undefined;
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
