/**
 * How deeply a JSON text nests, found by one pass over its characters. A
 * plugin's result is parsed on the event loop, and V8's parser takes about
 * 240 ms for 1 MiB of `[[[[…`: results nested deeper than MAX_JSON_DEPTH are
 * refused before they are parsed (no JSON a tool means to return nests that deep).
 */
export const MAX_JSON_DEPTH = 512;

/** True when `text` opens more than `limit` arrays/objects inside one another (strings are skipped). */
export function nestsDeeperThan(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
