/**
 * Compiled core modules, shared by every load in the process: a module is
 * compiled once while any plugin holds it (keyed by the sha256 of its bytes
 * after the capabilities' rewrites, so two grants that cap memory
 * differently get two modules), and every worker of every load receives the
 * same WebAssembly.Module (postMessage shares its compiled code). A load of
 * a cached component then costs no compile and no wait for V8's compile
 * task.
 */
import { createHash } from 'node:crypto';
import { Wasm, type WasmModule } from '../../wasm-api.ts';

const compiled = new Map<string, WeakRef<WasmModule>>();
const compiling = new Map<string, Promise<WasmModule>>();
// A module no plugin holds any more is compiled again next time (no cache that only grows).
const forget = new FinalizationRegistry<string>((key) => {
  if (compiled.get(key)?.deref() === undefined) compiled.delete(key);
});

/** How many modules this process compiled (tests: a second load of a component compiles none). */
export const compileCount = { value: 0 };

/** The compiled module for `bytes`: the one compiled before if a plugin still holds it, else a new compile. */
export function compileCore(bytes: Uint8Array): Promise<WasmModule> {
  const key = createHash('sha256').update(bytes).digest('hex');
  const known = compiled.get(key)?.deref();
  if (known !== undefined) return Promise.resolve(known);
  let pending = compiling.get(key);
  if (pending === undefined) {
    pending = Wasm.compile(bytes).then((m) => {
      compileCount.value++;
      compiled.set(key, new WeakRef(m));
      forget.register(m, key);
      return m;
    });
    compiling.set(key, pending);
    void pending.then(
      () => compiling.delete(key),
      () => compiling.delete(key),
    );
  }
  return pending;
}
