import test from 'ava';
import { AirlockError } from '../../src/errors.ts';
import type { FilesystemGrant } from '../../src/grants/types.ts';
import { type ComponentStatus, describeSelection, type EngineChoice, type SelectInput, selectEngine, selectProbing } from '../../src/selector/index.ts';
import { makeGrants } from '../helpers/grants.ts';

type Avail = 'wasm' | 'wasmtime' | 'docker' | 'kubernetes';
const ro: FilesystemGrant = { hostPath: '/srv/ro', mount: '/ro', access: 'read' };

interface Case {
  name: string;
  runtime: 'wasm' | 'node' | 'python';
  /** node/python: ships a component (manifest `wasm:`). */
  wasm?: boolean;
  component?: ComponentStatus['status'];
  readOnly?: boolean;
  engine?: EngineChoice;
  perPlugin?: EngineChoice;
  available: Avail[];
  /** The engine chosen, or the error. */
  want: Avail | { error: 'engine-unavailable'; match: RegExp };
  fallbacks?: Avail[];
  reason?: RegExp;
}

const cases: Case[] = [
  { name: 'wasm plugin, auto: worker engine', runtime: 'wasm', available: ['wasm', 'wasmtime', 'docker'], want: 'wasm', reason: /lowest latency/ },
  {
    name: 'wasm plugin, engine: wasmtime: wasmtime, and no fallback (an explicit engine is never replaced)',
    runtime: 'wasm',
    engine: 'wasmtime',
    available: ['wasm', 'wasmtime'],
    want: 'wasmtime',
    fallbacks: [],
  },
  { name: 'wasm plugin, auto: no fallback needed', runtime: 'wasm', available: ['wasm', 'wasmtime'], want: 'wasm', fallbacks: [] },
  {
    name: 'wasm plugin, per-plugin wasmtime wins over global wasm',
    runtime: 'wasm',
    engine: 'wasm',
    perPlugin: 'wasmtime',
    available: ['wasm', 'wasmtime'],
    want: 'wasmtime',
  },
  {
    name: 'wasm plugin, per-plugin auto wins over global wasmtime',
    runtime: 'wasm',
    engine: 'wasmtime',
    perPlugin: 'auto',
    available: ['wasm', 'wasmtime'],
    want: 'wasm',
  },
  {
    name: 'wasm plugin, wasmtime configured but a read-only grant: engine-unavailable with the refusal, never the worker engine instead',
    runtime: 'wasm',
    engine: 'wasmtime',
    readOnly: true,
    available: ['wasm', 'wasmtime'],
    want: {
      error: 'engine-unavailable',
      match: /configured with engine: wasmtime.*the wasmtime engine refuses this plugin's grants: .*read-only.*9608.*engine: auto/,
    },
  },
  {
    name: 'wasm plugin, wasmtime forced and missing: engine-unavailable with install hint',
    runtime: 'wasm',
    engine: 'wasmtime',
    available: ['wasm', 'docker'],
    want: { error: 'engine-unavailable', match: /wasmtime.*INSTALL-wasmtime/ },
  },
  { name: 'wasm plugin, auto, worker engine unavailable: wasmtime', runtime: 'wasm', available: ['wasmtime'], want: 'wasmtime' },
  {
    name: 'wasm plugin, auto, only wasmtime and a read-only grant: nothing can run it',
    runtime: 'wasm',
    readOnly: true,
    available: ['wasmtime', 'docker'],
    want: { error: 'engine-unavailable', match: /read-only/ },
  },
  {
    name: 'wasm plugin, engine: docker: refused',
    runtime: 'wasm',
    engine: 'docker',
    available: ['wasm', 'docker'],
    want: { error: 'engine-unavailable', match: /wasm plugin/ },
  },
  { name: 'node plugin: docker', runtime: 'node', available: ['wasm', 'wasmtime', 'docker'], want: 'docker', reason: /run in Docker/ },
  { name: 'python plugin: docker', runtime: 'python', available: ['wasm', 'docker'], want: 'docker' },
  {
    name: 'node plugin without docker: engine-unavailable with docker hint',
    runtime: 'node',
    available: ['wasm', 'wasmtime'],
    want: { error: 'engine-unavailable', match: /docker.*INSTALL-docker/ },
  },
  {
    name: 'node plugin, engine: wasm, no component: refused',
    runtime: 'node',
    engine: 'wasm',
    available: ['wasm', 'docker'],
    want: { error: 'engine-unavailable', match: /without a component/ },
  },
  {
    name: 'node plugin with component: wasm first, docker fallback',
    runtime: 'node',
    wasm: true,
    available: ['wasm', 'docker'],
    want: 'wasm',
    fallbacks: ['docker'],
    reason: /ships a component/,
  },
  {
    name: 'python plugin with component, wasmtime configured: wasmtime, no fallback',
    runtime: 'python',
    wasm: true,
    engine: 'wasmtime',
    available: ['wasm', 'wasmtime', 'docker'],
    want: 'wasmtime',
    fallbacks: [],
  },
  {
    name: 'node plugin with component, global wasmtime, read-only grant: engine-unavailable with the refusal',
    runtime: 'node',
    wasm: true,
    engine: 'wasmtime',
    readOnly: true,
    available: ['wasm', 'wasmtime', 'docker'],
    want: { error: 'engine-unavailable', match: /wasmtime engine refuses this plugin's grants: .*read-only/ },
  },
  {
    name: 'node plugin with a missing component: docker, with the reason',
    runtime: 'node',
    wasm: true,
    component: 'missing',
    available: ['wasm', 'docker'],
    want: 'docker',
    reason: /missing/,
  },
  {
    name: 'node plugin with an invalid component: docker',
    runtime: 'node',
    wasm: true,
    component: 'invalid',
    available: ['wasm', 'docker'],
    want: 'docker',
    reason: /invalid/,
  },
  { name: 'node plugin with component, no wasm engine: docker', runtime: 'node', wasm: true, available: ['docker'], want: 'docker', reason: /no wasm engine/ },
  { name: 'node plugin with component, engine: docker: docker', runtime: 'node', wasm: true, engine: 'docker', available: ['wasm', 'docker'], want: 'docker' },
  { name: 'node plugin with component, no docker: wasm, no fallback', runtime: 'node', wasm: true, available: ['wasm'], want: 'wasm', fallbacks: [] },
  {
    name: 'node plugin with invalid component, engine: wasm forced: engine-unavailable',
    runtime: 'node',
    wasm: true,
    component: 'invalid',
    engine: 'wasm',
    available: ['wasm', 'docker'],
    want: { error: 'engine-unavailable', match: /invalid/ },
  },
];

function input(c: Case): SelectInput {
  const grants = makeGrants({
    plugin: {
      name: 'p',
      runtime: c.runtime,
      entry: c.runtime === 'wasm' ? '/p/plugin.wasm' : '/p/index.js',
      ...(c.wasm === true ? { wasm: '/p/dual.wasm' } : {}),
    },
    filesystem: c.readOnly === true ? [ro] : [],
  });
  const probe = (e: Avail) => (c.available.includes(e) ? { available: true } : { available: false, reason: `${e} not here`, installHint: `INSTALL-${e}` });
  return {
    grants,
    ...(c.component === undefined ? {} : { component: { status: c.component } }),
    config: { ...(c.engine === undefined ? {} : { engine: c.engine }), ...(c.perPlugin === undefined ? {} : { plugins: { p: c.perPlugin } }) },
    probes: { wasm: probe('wasm'), wasmtime: probe('wasmtime'), docker: probe('docker'), kubernetes: probe('kubernetes') },
  };
}

for (const c of cases) {
  test(c.name, (t) => {
    if (typeof c.want === 'object') {
      const e = t.throws(() => selectEngine(input(c)), { instanceOf: AirlockError });
      t.is(e?.code, c.want.error);
      t.regex(e?.message ?? '', c.want.match);
      return;
    }
    const s = selectEngine(input(c));
    t.is(s.engine, c.want, describeSelection(s));
    if (c.fallbacks !== undefined)
      t.deepEqual(
        s.fallbacks.map((f) => f.engine),
        c.fallbacks,
      );
    if (c.reason !== undefined) t.regex(s.reason, c.reason);
    if (s.engine !== 'docker') t.is(s.component, c.runtime === 'wasm' ? '/p/plugin.wasm' : '/p/dual.wasm');
    t.true(describeSelection(s).startsWith(`${s.engine} (`));
  });
}

test('the selection records where the choice came from', (t) => {
  const c: Case = { name: '', runtime: 'wasm', engine: 'wasm', perPlugin: 'wasmtime', available: ['wasm', 'wasmtime'], want: 'wasmtime' };
  t.like(selectEngine(input(c)), { choice: 'wasmtime', choiceSource: 'plugin config' });
  t.like(selectEngine(input({ ...c, perPlugin: undefined })), { choice: 'wasm', choiceSource: 'host config' });
  t.like(selectEngine(input({ ...c, perPlugin: undefined, engine: undefined })), { choice: 'auto', choiceSource: 'default' });
});

test('auto runs a read-only grant on the worker engine; an explicit wasmtime refuses it with the engine and each refusal in details', (t) => {
  t.is(selectEngine(input({ name: '', runtime: 'wasm', readOnly: true, available: ['wasm', 'wasmtime'], want: 'wasm' })).engine, 'wasm');
  const explicit = t.throws(() =>
    selectEngine(input({ name: '', runtime: 'wasm', engine: 'wasmtime', readOnly: true, available: ['wasm', 'wasmtime'], want: 'wasm' })),
  );
  t.like((explicit as AirlockError).details, { engine: 'wasmtime' });
  t.regex(((explicit as AirlockError).details.refusals as string[])[0] ?? '', /9608/);
});

test('an explicit engine never has fallbacks, whatever the plugin; auto keeps them', (t) => {
  for (const engine of ['wasm', 'wasmtime'] as const) {
    for (const runtime of ['wasm', 'node', 'python'] as const) {
      const s = selectEngine(input({ name: '', runtime, wasm: runtime !== 'wasm', engine, available: ['wasm', 'wasmtime', 'docker'], want: engine }));
      t.is(s.engine, engine);
      t.deepEqual(s.fallbacks, [], `${engine} ${runtime}`);
    }
  }
  const auto = selectEngine(input({ name: '', runtime: 'node', wasm: true, available: ['wasm', 'wasmtime', 'docker'], want: 'wasm' }));
  t.deepEqual(
    auto.fallbacks.map((f) => f.engine),
    ['docker'],
  );
});

test('probing on demand selects what every probe selects, for every row of the table', async (t) => {
  for (const c of cases) {
    const { probes, ...rest } = input(c);
    const on = selectProbing(rest, async (e) => probes[e]);
    if (typeof c.want === 'object') {
      const e = await t.throwsAsync(on, { instanceOf: AirlockError }, c.name);
      t.regex(e?.message ?? '', c.want.match, c.name);
    } else {
      const { reason, ...selection } = await on;
      const { reason: full, ...all } = selectEngine(input(c));
      t.deepEqual(selection, all, c.name);
      t.true(reason.startsWith(full), c.name);
    }
  }
});

test('a wasm plugin the worker engine runs probes neither wasmtime nor Docker; a node plugin probes Docker', async (t) => {
  const probed = async (c: Case): Promise<string[]> => {
    const { probes, ...rest } = input(c);
    const asked: string[] = [];
    await selectProbing(rest, async (e) => (asked.push(e), probes[e]));
    return asked;
  };
  const all: Avail[] = ['wasm', 'wasmtime', 'docker'];
  t.deepEqual(await probed({ name: 'wasm', runtime: 'wasm', available: all, want: 'wasm' }), ['wasm']);
  t.deepEqual(await probed({ name: 'forced', runtime: 'wasm', engine: 'wasmtime', available: all, want: 'wasmtime' }), ['wasmtime']);
  t.deepEqual(await probed({ name: 'no worker engine', runtime: 'wasm', available: ['wasmtime'], want: 'wasmtime' }), ['wasm', 'wasmtime']);
  t.deepEqual(await probed({ name: 'node', runtime: 'node', available: all, want: 'docker' }), ['docker']);
  const { probes, ...rest } = input({ name: 'wasm', runtime: 'wasm', available: all, want: 'wasm' });
  t.regex(
    (await selectProbing(rest, async (e) => probes[e])).reason,
    /lowest latency for components; wasmtime, Docker and Kubernetes not probed \(not needed\)$/,
  );
});
