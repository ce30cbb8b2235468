/**
 * Engines that need something outside Node (Docker, the wasmtime CLI) are
 * tested for real. On a developer's machine without them those tests skip,
 * loudly; in CI (`AIRLOCK_REQUIRE_DOCKER=1`, `AIRLOCK_REQUIRE_WASMTIME=1`,
 * set by `.ci/run`) a missing engine fails the test instead.
 */
import test from 'ava';

export type External = 'docker' | 'wasmtime' | 'mcp-python' | 'minisign' | 'registry' | 'old-node' | 'chromium' | 'extism' | 'cluster';

const envName: Record<External, string> = {
  docker: 'AIRLOCK_REQUIRE_DOCKER',
  wasmtime: 'AIRLOCK_REQUIRE_WASMTIME',
  'mcp-python': 'AIRLOCK_REQUIRE_MCP_PYTHON',
  minisign: 'AIRLOCK_REQUIRE_MINISIGN',
  registry: 'AIRLOCK_REQUIRE_REGISTRY',
  'old-node': 'AIRLOCK_REQUIRE_OLD_NODE',
  chromium: 'AIRLOCK_REQUIRE_CHROMIUM',
  extism: 'AIRLOCK_REQUIRE_EXTISM',
  cluster: 'AIRLOCK_REQUIRE_CLUSTER',
};

/**
 * Tools .ci installs for the trust tests (minisign, docker-registry, from Debian) and the bench's Extism
 * baseline (its dev dependency): required whenever CI=true, too.
 */
const requiredInCi = new Set<External>(['minisign', 'registry', 'extism']);

/**
 * Returns true when the tests that need `what` should run. When `available`
 * is false: fails a test (required) or prints a loud warning (not required)
 * and returns false so the caller registers its tests with `test.skip`.
 */
export function requireExternal(what: External, available: boolean, why: string): boolean {
  if (available) return true;
  if (process.env[envName[what]] === '1' || (requiredInCi.has(what) && process.env.CI === 'true')) {
    test(`${what} is required (${envName[what]}=1) but unavailable`, (t) => {
      t.fail(`${what} unavailable: ${why}`);
    });
    return false;
  }
  process.stderr.write(`\n!!! SKIPPING ${what} tests: ${why}\n!!! Set ${envName[what]}=1 to make this a failure (CI does).\n\n`);
  return false;
}
