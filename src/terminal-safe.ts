/**
 * Plugin text made safe to show (terminals, logs, the audit log): one
 * function, used by the CLI's streams and by the host's own files alike, so
 * the library does not import the CLI for it.
 */
/**
 * Characters a terminal acts on or that change how the text around them reads:
 * C0 controls (ESC starts cursor moves, screen clears, OSC 52 clipboard writes,
 * OSC 8 links), DEL, C1 controls (U+009B is a one-character CSI), and the
 * invisible and bidi format characters (U+202E reverses what follows; the
 * tag characters U+E0000-U+E007F, a surrogate pair each, spell text no one sees).
 * 1: always escaped; 2: kept in multi-line text (newline, tab).
 */
const UNSAFE = new Uint8Array(0x10000);
for (const [from, to] of [
  [0x00, 0x1f],
  [0x7f, 0x9f],
  [0xad, 0xad],
  [0x61c, 0x61c],
  [0x180e, 0x180e],
  [0x200b, 0x200f],
  [0x2028, 0x202e],
  [0x2060, 0x206f],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffb],
] as const) {
  UNSAFE.fill(1, from, to + 1);
}
UNSAFE[0x0a] = 2;
UNSAFE[0x09] = 2;
const TAG_HIGH = 0xdb40;
const isTagLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdc7f;
const hex = (c: number): string => `\\u${c.toString(16).padStart(4, '0')}`;
const ESCAPED: Array<string | undefined> = [];
UNSAFE.forEach((kind, c) => {
  if (kind !== 0) ESCAPED[c] = hex(c);
});

/**
 * Text for a terminal or a log: every UNSAFE character is shown as
 * `\uXXXX`, so what a plugin wrote (results, logs, error messages, tool
 * names and descriptions, manifest values) cannot move the cursor, clear the
 * screen, set the clipboard or hide and reorder text, whether or not the
 * stream is a TTY (CI logs and `tee` reach terminals later). `\uXXXX` is
 * also a JSON string escape of the same character, so JSON text stays valid
 * and parses to the same values. Newline and tab are kept for multi-line
 * text (logs, whole outputs) and escaped in a single-line field.
 * A loop over a table, not a regex replace with a callback: output is capped
 * but can be all escapes, and this runs on the event loop (a MiB of ESC costs
 * about 3x JSON.stringify of it; the regex form was 3-5x slower still).
 */
export function terminalSafe(text: string, multiline = true): string {
  const parts: string[] = [];
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const kind = UNSAFE[c];
    if (kind === 0) {
      if (c !== TAG_HIGH || !isTagLow(text.charCodeAt(i + 1))) continue;
      if (i > last) parts.push(text.slice(last, i));
      parts.push(hex(c), hex(text.charCodeAt(i + 1)));
      last = ++i + 1;
      continue;
    }
    if (kind === 2 && multiline) continue;
    if (i > last) parts.push(text.slice(last, i));
    parts.push(ESCAPED[c] as string);
    last = i + 1;
  }
  if (last === 0) return text;
  if (last < text.length) parts.push(text.slice(last));
  return parts.join('');
}
