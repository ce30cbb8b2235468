/**
 * The bench measures every engine: each engine in the registry has an
 * engine target, so an engine added without one fails here rather than
 * going unmeasured, and no engine target names an engine that is gone.
 */
import test from 'ava';
import { ALL_TARGETS } from '../../src/bench/index.ts';
import { ENGINE_NAMES, isEngineName } from '../../src/engines/registry.ts';

const targets = Object.values(ALL_TARGETS);
const engineTargets = targets.filter((t) => t.kind === 'engine');

test('every engine in the registry is measured by at least one engine target', (t) => {
  for (const engine of ENGINE_NAMES) {
    t.true(
      engineTargets.some((x) => x.engine === engine),
      `no bench target measures the ${engine} engine: add one in src/bench/targets/ (kind 'engine', engine '${engine}') and list it in ALL_TARGETS`,
    );
  }
});

test('every engine target names an engine of the registry', (t) => {
  t.true(engineTargets.length > 0);
  for (const target of engineTargets) t.true(target.engine !== undefined && isEngineName(target.engine), `${target.name} names no registry engine`);
});

test('baselines name no engine: they run without Airlock', (t) => {
  for (const target of targets.filter((x) => x.kind === 'baseline')) t.is(target.engine, undefined, `${target.name} is a baseline`);
});
