/**
 * Local base images and the extra CA for the Docker engine (no image registry is reachable here): from
 * the environment (`.ci/run` evals .ci/setup-docker.sh), else from the env file that script leaves in
 * the cache, as test/engines/docker/helpers.ts does, so `npx ava` works after one setup.
 */
import { readFileSync } from 'node:fs';
import { cacheDir } from '../../src/paths.ts';

export function dockerSetupEnv(): void {
  let text = '';
  try {
    text = readFileSync(cacheDir('docker-base', 'env'), 'utf8');
  } catch {
    return;
  }
  for (const m of text.matchAll(/^export (AIRLOCK_(?:NODE_IMAGE|PYTHON_IMAGE|EXTRA_CA))=(.*)$/gm)) {
    const [, name, value] = m as unknown as [string, string, string];
    process.env[name] ??= value;
  }
}
