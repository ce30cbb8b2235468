/**
 * `text` without trailing "/" characters. Written as a loop: `/\/+$/` is
 * quadratic in V8 on a long run of "/" that does not end the text (every
 * start position scans the whole run again).
 */
export function trimSlashes(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x2f) end--;
  return text.slice(0, end);
}
