/** Airlock's own version, from its package.json (one place: `airlock --version`, the MCP server's info). */
import { readFileSync } from 'node:fs';

let version: string | undefined;

export function airlockVersion(): string {
  // Read once, synchronously: a small file of our own package (src/ and dist/ both sit next to it), needed by sync callers.
  version ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}
