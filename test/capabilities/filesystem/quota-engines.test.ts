/**
 * The engines whose read-write grants are plain host folders (wasmtime's
 * --dir, Docker's bind mount) cannot hold a plugin to resources.disk and
 * resources.files: wasmtime refuses the plugin and the selector runs it on
 * the worker engine, which enforces them; Docker refuses it with
 * permission-denied. Either is lifted only by the host policy's
 * unboundedWrites. No daemon or wasmtime binary is needed: both refuse
 * before starting anything.
 */
import test from 'ava';
import { DockerEngine } from '../../../src/engines/docker/index.ts';
import { WasmtimeEngine } from '../../../src/engines/wasmtime/index.ts';
import { isAirlockError } from '../../../src/errors.ts';
import { selectEngine } from '../../../src/selector/index.ts';
import { makeGrants } from '../../helpers/grants.ts';

const rw = { hostPath: '/srv/plugin-data', mount: '/data', access: 'read-write' } as const;
const available = { available: true, version: 'test' };

test('Docker refuses a read-write grant with permission-denied naming the grant, the limits and the policy opt-out', async (t) => {
  const grants = makeGrants({ plugin: { name: 'filler', runtime: 'node' }, filesystem: [rw], resources: { diskBytes: 64 << 20, files: 1000 } });
  const err = await t.throwsAsync(new DockerEngine().load(grants));
  t.true(isAirlockError(err, 'permission-denied'), String(err));
  t.regex(
    err?.message ?? '',
    /the Docker engine cannot bound plugin filler.*\/srv\/plugin-data is granted read-write at \/data.*resources\.disk \(64Mi\) and resources\.files \(1000\).*list docker in unboundedWrites in the host policy/,
  );
});

test('wasmtime refuses a read-write grant; the selector runs the plugin on the worker engine (auto), or fails with the refusal when wasmtime was chosen', async (t) => {
  const grants = makeGrants({ filesystem: [rw] });
  const probes = { wasm: available, wasmtime: available, docker: available, kubernetes: available };
  t.is(selectEngine({ grants, probes }).engine, 'wasm');
  const chosen = t.throws(() => selectEngine({ grants, config: { engine: 'wasmtime' }, probes }));
  t.true(isAirlockError(chosen, 'engine-unavailable'), String(chosen));
  t.regex(
    chosen?.message ?? '',
    /the wasmtime engine refuses.*\/srv\/plugin-data is granted read-write at \/data, but wasmtime cannot hold the plugin to resources\.disk/,
  );
  // Loaded directly, the engine refuses with engine-unavailable (the selector's cue to fall back).
  const engine = new WasmtimeEngine({ probe: { available: true, path: '/nonexistent/wasmtime', version: '0.0.0', installHint: '' } });
  const err = await t.throwsAsync(engine.load(grants, { kind: 'component', path: '/nonexistent/plugin.wasm' }));
  t.true(isAirlockError(err, 'engine-unavailable'), String(err));
  t.regex(err?.message ?? '', /unboundedWrites/);
});

test('with unboundedWrites the policy owner accepts unbounded writes on that engine only', (t) => {
  const docker = makeGrants({ filesystem: [rw], unboundedWrites: ['docker'] });
  t.throws(
    () =>
      selectEngine({
        grants: docker,
        config: { engine: 'wasmtime' },
        probes: { wasm: available, wasmtime: available, docker: available, kubernetes: available },
      }),
    {
      message: /wasmtime cannot hold the plugin to resources\.disk/,
    },
  );
  const both = makeGrants({ filesystem: [rw], unboundedWrites: ['docker', 'wasmtime'] });
  t.is(
    selectEngine({ grants: both, config: { engine: 'wasmtime' }, probes: { wasm: available, wasmtime: available, docker: available, kubernetes: available } })
      .engine,
    'wasmtime',
  );
});
