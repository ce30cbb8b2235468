/**
 * Network for Docker: `NetworkMode: none` (only loopback) unless network is
 * granted. A grant is an allowlist: the engine puts the container on an
 * internal Docker network with no route out, whose only way out is Airlock's
 * egress proxy (HTTP and CONNECT), which admits only these hosts and ports.
 * The proxy variables are set by the engine, which knows the proxy's address.
 */
import type { DockerOptions } from '../../engines/docker/options.ts';
import type { Grants } from '../../grants/types.ts';

export function networkDocker(grants: Grants): DockerOptions {
  if (grants.network === null) return { hostConfig: { NetworkMode: 'none' } };
  if (grants.network.allow.length === 0) return { hostConfig: { NetworkMode: 'none' } };
  return { egress: grants.network.allow };
}
