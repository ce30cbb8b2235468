/** What `fn` threw (a WASI error code, for the filesystem layer), or undefined. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
