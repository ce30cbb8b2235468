/**
 * Network for Docker: `NetworkMode: none` (only loopback) unless network is
 * granted. A grant is an allowlist: the engine puts the container on an
 * internal Docker network with no route out, whose only way out is Airlock's
 * egress proxy (HTTP and CONNECT), which admits only these hosts and ports.
 * The proxy variables are set by the engine, which knows the proxy's address.
 *
 * The plugin needs no DNS (the proxy resolves names; its address is an IP),
 * so Docker's embedded resolver on the internal network gets 127.0.0.1, the
 * container's own loopback, as its only upstream: unknown names are asked
 * there and go nowhere. Otherwise it forwards them to the host's resolvers,
 * a channel out of an internal network (query names carry data to any
 * domain's name server), from the host's own namespace when the host resolver
 * is on loopback (CVE-2024-29018, fixed in Docker 26.0.0, 25.0.4 and 23.0.11;
 * Debian 12 ships 20.10).
 */
import type { DockerContribution } from '../types.ts';
import type { Grants } from '../../grants/types.ts';

export function networkDocker(grants: Grants): DockerContribution {
  if (grants.network === null) return { hostConfig: { NetworkMode: 'none' } };
  if (grants.network.allow.length === 0) return { hostConfig: { NetworkMode: 'none' } };
  return { egress: grants.network.allow, hostConfig: { Dns: ['127.0.0.1'] } };
}
