/**
 * The dual plugin (fixtures/plugins/conformance-dual: a python entry for Docker and a component of the
 * same tools for the wasm engines) through the real PluginHost, forced onto each engine in turn: every
 * engine meets the same table of results and error codes (no limitation applies to this plugin).
 *
 * wasmtime and Docker skip loudly when missing (fail under AIRLOCK_REQUIRE_<X>=1); the component needs
 * componentize-py, which skips loudly outside CI, like the conformance suite.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { probeDocker, probeWasmtimeEngine } from '../../src/engines/probe.ts';
import type { EngineName } from '../../src/engines/types.ts';
import { isAirlockError, type ErrorCode } from '../../src/errors.ts';
import { PluginHost } from '../../src/host/index.ts';
import { requireExternal } from '../helpers/require.ts';
import { dockerSetupEnv } from './docker-env.ts';

dockerSetupEnv();
const DIR = join(FIXTURES_DIR, 'conformance-dual');
const ECHOED = { a: [1, 'é', null, { b: true }], s: 'quote " backslash \\ newline \n tab \t 😀', n: -0.25 };

type Outcome = { output: string } | { error: ErrorCode; pluginCode?: unknown };

/** [tool, input, what every engine answers]. */
const TABLE: Array<[string, unknown, Outcome]> = [
  ['echo', ECHOED, { output: JSON.stringify(ECHOED) }],
  ['echo', {}, { output: '{}' }],
  ['add', { a: 2, b: 0.5 }, { output: '2.5' }],
  ['add', { a: -3, b: 3 }, { output: '0' }],
  ['fail', { message: 'it broke' }, { error: 'plugin-error', pluginCode: 'bad-thing' }],
  // Checked by the host against the tool's schema before any engine sees it.
  ['add', { a: 'x', b: 1 }, { error: 'invalid-input' }],
];

const hasPy = spawnSync('componentize-py', ['--version']).status === 0;
const [wasmtime, docker] = await Promise.all([probeWasmtimeEngine(), probeDocker({ timeoutMs: 5000 })]);
const needsPy = !hasPy && process.env.CI === undefined;
if (needsPy) process.stderr.write('\n!!! SKIPPING the dual plugin on the wasm engines: componentize-py is not installed\n\n');

const ENGINES: Array<{ engine: EngineName; run: boolean }> = [
  { engine: 'wasm', run: !needsPy },
  { engine: 'wasmtime', run: !needsPy && requireExternal('wasmtime', wasmtime.available, wasmtime.reason ?? 'not found') },
  { engine: 'docker', run: requireExternal('docker', docker.available, docker.reason ?? 'no Docker daemon') },
];

for (const { engine, run } of ENGINES) {
  (run ? test.serial : test.skip)(`dual plugin on ${engine} through PluginHost: the shared table of results and error codes`, async (t) => {
    const host = new PluginHost({ engine });
    t.teardown(() => host.close());
    const summary = await host.load(DIR);
    t.is(summary.engine, engine, summary.reason);
    t.regex(summary.reason, new RegExp(`engine: ${engine}`));
    for (const [tool, input, expected] of TABLE) {
      const got: Outcome = await host.call(`conformance-dual_${tool}`, input).then(
        (r) => ({ output: r.output }),
        (e: unknown) => {
          if (!isAirlockError(e)) throw e;
          return { error: e.code, ...(e.details.pluginCode === undefined ? {} : { pluginCode: e.details.pluginCode }) };
        },
      );
      t.deepEqual(got, expected, `${tool} ${JSON.stringify(input)}`);
    }
  });
}
