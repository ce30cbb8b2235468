/**
 * Docker set-up shared by the conformance and selector tests.
 *
 * Local base images and the extra CA for the Docker engine (no image registry is reachable here): from
 * the environment (`.ci/run` evals .ci/setup-docker.sh), else from the env file that script leaves in
 * the cache, as test/engines/docker/helpers.ts does, so `npx ava` works after one setup.
 */
import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
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

/**
 * The host's address on Docker's default bridge (docker0), or undefined without Docker. A host
 * server there is reachable from the host itself and from Airlock's egress proxy container, where
 * 127.0.0.1 would be the container's own loopback. Older daemons list only the subnet; the bridge
 * then has the subnet's first address (dockerd's default without --bip).
 */
export async function bridgeGateway(): Promise<string | undefined> {
  try {
    const bridge = (await new Docker({ timeout: 5000 }).getNetwork('bridge').inspect()) as {
      IPAM: { Config: Array<{ Gateway?: string; Subnet?: string }> | null };
    };
    const config = (bridge.IPAM.Config ?? []).find((c) => c.Gateway?.includes('.') === true || c.Subnet?.includes('.') === true);
    return config?.Gateway ?? config?.Subnet?.replace(/\.0\/\d+$/, '.1');
  } catch {
    return undefined;
  }
}
