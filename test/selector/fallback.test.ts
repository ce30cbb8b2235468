/**
 * The selector's fallback for a python plugin that also ships a component
 * (fixtures/plugins/conformance-dual), through the real PluginHost and
 * engines: with `engine: auto` the component runs on the worker engine; when
 * the component is missing or invalid, or no wasm engine can run it, the
 * python entry runs in Docker and the plugin's reason says why.
 *
 * Docker cases skip loudly without Docker (fail under AIRLOCK_REQUIRE_DOCKER=1);
 * cases needing the built component skip loudly without componentize-py outside CI.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { probeDocker, type EngineProbe } from '../../src/engines/probe.ts';
import type { EngineName } from '../../src/engines/types.ts';
import { PluginHost, type PluginSummary } from '../../src/host/index.ts';
import type { EngineProvider, HostOptions } from '../../src/host/index.ts';
import { defaultEngineProvider } from '../../src/provider/index.ts';
import { dockerSetupEnv } from '../conformance/docker-env.ts';
import { tempDir } from '../helpers/plugin.ts';
import { requireExternal } from '../helpers/require.ts';

dockerSetupEnv();
const DUAL = join(FIXTURES_DIR, 'conformance-dual');

const hasPy = spawnSync('componentize-py', ['--version']).status === 0 || process.env.CI !== undefined;
if (!hasPy) process.stderr.write('\n!!! SKIPPING fallback cases that need the built component: componentize-py is not installed\n\n');
const docker = await probeDocker({ timeoutMs: 5000 });
const DOCKER = requireExternal('docker', docker.available, docker.reason ?? 'no Docker daemon');

/** A copy of the dual plugin whose manifest's `wasm:` names `wasm`, with `files` written into it. */
function dualCopy(wasm: string, files: Record<string, string | Uint8Array> = {}): string {
  const dir = tempDir('airlock-dual-');
  cpSync(DUAL, dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const manifest = readFileSync(join(dir, 'plugin.yaml'), 'utf8');
  writeFileSync(join(dir, 'plugin.yaml'), manifest.replace(/^wasm: .*$/m, `wasm: ${wasm}`));
  return dir;
}

/** Loads `dir` on a fresh host, checks load() and plugins() agree on engine and reason, and that the plugin answers. */
async function loaded(t: ExecutionContext, dir: string, options: HostOptions = {}): Promise<PluginSummary> {
  const host = new PluginHost(options);
  t.teardown(() => host.close());
  const summary = await host.load(dir);
  const listed = host.plugins().find((p) => p.name === summary.name);
  t.is(listed?.engine, summary.engine);
  t.is(listed?.reason, summary.reason);
  // Whichever engine was chosen, the tools answer alike.
  t.is((await host.call('conformance-dual_add', { a: 2, b: 0.5 })).output, '2.5');
  t.is((await host.call('conformance-dual_echo', { x: 'é' })).output, '{"x":"é"}');
  return summary;
}

const withPy = hasPy ? test.serial : test.skip;
const withDocker = DOCKER ? test.serial : test.skip;
const withBoth = hasPy && DOCKER ? test.serial : test.skip;

withPy('auto: a plugin shipping a valid component runs it on the worker engine, and says so', async (t) => {
  const s = await loaded(t, DUAL);
  t.is(s.engine, 'wasm');
  t.regex(
    s.reason,
    /^conformance-dual ships a component \(.*\.wasm\); the worker engine has the lowest latency for components; wasmtime and Kubernetes not probed \(not needed\)$/,
  );
});

withDocker('auto: a `wasm:` file that is not a WebAssembly component falls back to Docker, naming the file and the problem', async (t) => {
  const s = await loaded(t, dualCopy('bad.wasm', { 'bad.wasm': 'this is not wasm' }));
  t.is(s.engine, 'docker');
  t.regex(s.reason, /component .*\/bad\.wasm is invalid: not a WebAssembly component \(bad header\), so the python entry runs in Docker/);
});

withDocker('auto: a core wasm module that cannot be wrapped into a component falls back to Docker with the reason', async (t) => {
  const s = await loaded(t, dualCopy('core.wasm', { 'core.wasm': new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]) }));
  t.is(s.engine, 'docker');
  t.regex(s.reason, /core\.wasm is invalid: .*cannot make a component from the core module.*, so the python entry runs in Docker/s);
});

withDocker('auto: a component source that fails to build falls back to Docker with the build error', async (t) => {
  const s = await loaded(t, dualCopy('broken.py', { 'broken.py': 'class Tools(:\n' }));
  t.is(s.engine, 'docker');
  // componentize-py's own error (or, without it, that it is not installed) is the reason.
  t.regex(s.reason, /component .*broken\.py is invalid: .*componentize-py.*, so the python entry runs in Docker/s);
});

withDocker('auto: a component that disappeared after the manifest was checked is missing, and Docker runs the plugin', async (t) => {
  const real = defaultEngineProvider();
  // The file goes away between validation and selection (a deploy replacing it, a cleaned folder).
  const provider: EngineProvider = {
    open: (plugin, grants, preference) => {
      if (grants.plugin.wasm !== undefined) rmSync(grants.plugin.wasm);
      return real.open(plugin, grants, preference);
    },
    close: () => real.close(),
  };
  const s = await loaded(t, dualCopy('plugin.wasm', { 'plugin.wasm': 'soon gone' }), { provider });
  t.is(s.engine, 'docker');
  t.regex(s.reason, /component .*\/plugin\.wasm is missing \(no such file\), so the python entry runs in Docker/);
});

withBoth("auto: a valid component with no wasm engine available falls back to Docker, giving each engine's reason", async (t) => {
  const off = (engine: EngineName, reason: string): EngineProbe => ({ engine, available: false, reason, installHint: `install ${engine}` });
  const provider = defaultEngineProvider({
    probes: {
      wasm: off('wasm', 'disabled for this test'),
      wasmtime: off('wasmtime', 'wasmtime not found'),
      docker,
      kubernetes: off('kubernetes', 'no cluster'),
    },
  });
  const s = await loaded(t, DUAL, { provider });
  t.is(s.engine, 'docker');
  t.regex(s.reason, /no wasm engine can run its component \(wasm: disabled for this test; wasmtime: wasmtime not found\)/);
});
