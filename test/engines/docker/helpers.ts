/** Shared set-up of the Docker engine tests: is Docker there, the engine, grants for fixtures. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerEngine, type DockerEngineOptions } from '../../../src/engines/docker/index.ts';
import { probeDocker } from '../../../src/engines/probe.ts';
import { computeGrants } from '../../../src/grants/grant.ts';
import { defaultPolicy, policyFromObject, type PolicyInput } from '../../../src/grants/policy.ts';
import type { Grants } from '../../../src/grants/types.ts';
import { loadPlugin } from '../../../src/manifest/index.ts';
import { cacheDir } from '../../../src/paths.ts';
import { requireExternal } from '../../helpers/require.ts';

export const FIXTURES = join(import.meta.dirname, '../../../fixtures/plugins');

const probe = await probeDocker({ timeoutMs: 5000 });
/** True when the Docker tests run (see test/helpers/require.ts for what happens otherwise). */
export const DOCKER = requireExternal('docker', probe.available, probe.reason ?? 'no Docker daemon');

/**
 * Base images and extra CA: the environment (set by `.ci/run` from .ci/setup-docker.sh), else the env
 * file that script leaves in the cache, so `npx ava` works after one setup without eval.
 */
function setupEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  let text = '';
  try {
    text = readFileSync(cacheDir('docker-base', 'env'), 'utf8');
  } catch {
    return out;
  }
  for (const m of text.matchAll(/^export (\w+)=(.*)$/gm)) out[m[1] as string] = m[2] as string;
  return out;
}
const recorded = setupEnv();
for (const name of ['AIRLOCK_NODE_IMAGE', 'AIRLOCK_PYTHON_IMAGE', 'AIRLOCK_EXTRA_CA']) {
  if (process.env[name] === undefined && recorded[name] !== undefined) process.env[name] = recorded[name];
}

export function engine(options: DockerEngineOptions = {}): DockerEngine {
  return new DockerEngine(options);
}

/** Grants for a fixture (or any plugin folder) under a policy (default: the default policy). */
export function grantsFor(dir: string, policy?: PolicyInput, overrides: Partial<Grants> = {}): Grants {
  const plugin = loadPlugin(dir.startsWith('/') ? dir : join(FIXTURES, dir));
  const p = policy === undefined ? defaultPolicy() : policyFromObject(policy, plugin.dir);
  return { ...computeGrants(plugin, p), ...overrides };
}
