import test from 'ava';
import { capMemory, definedMemories, WASM_PAGE } from '../../../src/capabilities/limits/memory.ts';
import { Wasm, type WasmMemory } from '../../../src/wasm-api.ts';
import { isAirlockError } from '../../../src/errors.ts';

// (module (memory 2) (func (export "f")))  and  (memory 1 100)
const noMax = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 3, 1, 0, 2, 7, 5, 1, 1, 102, 0, 0, 10, 4, 1, 2, 0, 11]);
const withMax = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 5, 4, 1, 1, 1, 100]);

test('a memory without a maximum gets the cap as its maximum, and still compiles', async (t) => {
  const out = capMemory(noMax, 10 * WASM_PAGE);
  t.deepEqual(definedMemories(out), [{ minPages: 2n, maxPages: 10n, shared: false, memory64: false }]);
  await t.notThrowsAsync(Wasm.compile(out));
  // Everything but the memory section is byte for byte the same.
  t.deepEqual(out.subarray(0, 18), noMax.subarray(0, 18));
  t.deepEqual(out.subarray(out.length - 13), noMax.subarray(noMax.length - 13));
});

test('a larger declared maximum is lowered; a smaller one is kept', (t) => {
  t.is(definedMemories(capMemory(withMax, 50 * WASM_PAGE))[0]!.maxPages, 50n);
  t.is(definedMemories(capMemory(withMax, 500 * WASM_PAGE))[0]!.maxPages, 100n);
});

test('a module whose initial memory is over the cap is refused with memory-limit', (t) => {
  const e = t.throws(() => capMemory(noMax, WASM_PAGE));
  t.true(isAirlockError(e, 'memory-limit'));
});

test('a grown memory stops at the cap', async (t) => {
  const mod = await Wasm.compile(capMemory(Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 1, 7, 7, 1, 3, 109, 101, 109, 2, 0]), 4 * WASM_PAGE));
  const mem = new Wasm.Instance(mod, {}).exports.mem as WasmMemory & { grow(n: number): number };
  t.throws(() => mem.grow(4));
  t.is(mem.grow(3), 1);
});
