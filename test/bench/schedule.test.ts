import test from 'ava';
import { interleave } from '../../src/bench/index.ts';

test('interleave visits every item once per round, rounds in order', (t) => {
  const slots = interleave(['a', 'b', 'c'], 3);
  t.is(slots.length, 9);
  for (let r = 0; r < 3; r++) {
    const round = slots.slice(r * 3, r * 3 + 3);
    t.true(round.every((s) => s.round === r));
    t.deepEqual([...round.map((s) => s.item)].sort(), ['a', 'b', 'c']);
  }
});

test('interleave starts each round one item further, so no item always runs first or last', (t) => {
  const slots = interleave(['a', 'b', 'c'], 3);
  t.deepEqual(
    slots.map((s) => s.item),
    ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b'],
  );
});
