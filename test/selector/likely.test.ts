/**
 * The engine a plugin will most likely run on, known without probing
 * (src/selector likelyEngine): what the host starts ahead of a load
 * (EngineDefinition.warm). A hint, so it names an engine only when the
 * selector would pick it whatever the probes say.
 */
import test from 'ava';
import type { EngineDefinition } from '../../src/engines/engine.ts';
import { type EngineChoice, likelyEngine, type SelectorEngine } from '../../src/selector/index.ts';
import { makeGrants } from '../helpers/grants.ts';

const wasmPlugin = makeGrants();
const pythonPlugin = makeGrants({ plugin: { runtime: 'python', entry: '/p/main.py' } });
const pythonWithComponent = makeGrants({ plugin: { runtime: 'python', entry: '/p/main.py', wasm: '/p/plugin.wasm' } });

for (const [name, grants, choice, want] of [
  ['a wasm plugin under auto: the worker engine', wasmPlugin, 'auto', 'wasm'],
  ['a python plugin with a component under auto: the worker engine', pythonWithComponent, 'auto', 'wasm'],
  ['a wasm plugin forced onto wasmtime: wasmtime', wasmPlugin, 'wasmtime', 'wasmtime'],
  ['a python plugin without a component: none (a source engine, probed)', pythonPlugin, 'auto', undefined],
  ['a wasm plugin forced onto Docker: none (Docker runs no component)', wasmPlugin, 'docker', undefined],
] as const) {
  test(name, (t) => {
    t.is(likelyEngine(grants, choice as EngineChoice), want);
  });
}

/** A registry whose first component engine is `first`. */
const engines = (first: Partial<EngineDefinition>): (SelectorEngine & Pick<EngineDefinition, 'builtin'>)[] => [
  { name: 'wasm', label: 'first', strength: '', artefact: 'component', runtimes: [], builtin: true, refusals: () => [], ...first } as SelectorEngine &
    Pick<EngineDefinition, 'builtin'>,
  { name: 'wasmtime', label: 'second', strength: '', artefact: 'component', runtimes: [], builtin: false, refusals: () => [] },
];

test('under auto, none when the first component engine needs a probe or refuses the grants (the selector may pass it over)', (t) => {
  t.is(likelyEngine(wasmPlugin, 'auto', engines({})), 'wasm');
  t.is(likelyEngine(wasmPlugin, 'auto', engines({ builtin: false })), undefined);
  t.is(likelyEngine(wasmPlugin, 'auto', engines({ refusals: () => ['no network allowlists'] })), undefined);
});
