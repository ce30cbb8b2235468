/**
 * The `file:` URL of a module beside `metaUrl` (a capability's worker part),
 * with the extension this tree runs from: `.ts` from source, `.js` once built.
 */
export function siblingModule(metaUrl: string, name: string): string {
  return new URL(`${name}${metaUrl.endsWith('.ts') ? '.ts' : '.js'}`, metaUrl).href;
}
