/**
 * The network side of a network grant: an internal Docker network (no route
 * out) per loaded plugin, and Airlock's egress proxy listening on that
 * network's gateway address on the host, which is the container's only way
 * out. Plugins on different networks cannot reach each other.
 *
 * The proxy runs in Airlock's own process (src/engines/docker/egress). A
 * container on an internal network still reaches the host's address on that
 * bridge, which is how it reaches the proxy.
 */
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { AirlockError } from '../../errors.ts';
import type { HostPattern } from '../../grants/types.ts';
import { startEgressProxy, type EgressDecision, type EgressProxy, type Resolver } from './egress/index.ts';
import { LABEL_MANAGED, LABEL_OWNER, LABEL_PLUGIN, OWNER } from './container.ts';

export interface Egress {
  /** The container's NetworkMode. */
  network: string;
  /** Proxy variables for the container's environment. */
  env: Record<string, string>;
  proxy: EgressProxy;
  close(): Promise<void>;
}

export interface EgressOptions {
  resolve?: Resolver;
  onDecision?: (decision: EgressDecision) => void;
}

export async function startEgress(docker: Docker, plugin: string, allow: readonly HostPattern[], options: EgressOptions = {}): Promise<Egress> {
  const name = `airlock-egress-${plugin}-${randomBytes(4).toString('hex')}`;
  const net = await docker.createNetwork({
    Name: name,
    Driver: 'bridge',
    Internal: true,
    CheckDuplicate: true,
    Labels: { [LABEL_MANAGED]: 'true', [LABEL_OWNER]: OWNER, [LABEL_PLUGIN]: plugin },
    Options: { 'com.docker.network.bridge.enable_icc': 'false' },
  });
  let proxy: EgressProxy | undefined;
  try {
    const info = (await net.inspect()) as { IPAM?: { Config?: { Gateway?: string }[] } };
    const gateway = info.IPAM?.Config?.find((c) => c.Gateway !== undefined)?.Gateway;
    if (gateway === undefined) throw new AirlockError('engine-unavailable', `the internal network ${name} has no gateway address for the egress proxy to listen on`);
    proxy = await startEgressProxy({
      allow,
      listen: { host: gateway, port: 0 },
      ...(options.resolve === undefined ? {} : { resolve: options.resolve }),
      ...(options.onDecision === undefined ? {} : { onDecision: options.onDecision }),
    });
    const url = proxy.url;
    const p = proxy;
    return {
      network: name,
      env: { HTTP_PROXY: url, HTTPS_PROXY: url, http_proxy: url, https_proxy: url, NO_PROXY: '', no_proxy: '', NODE_USE_ENV_PROXY: '1' },
      proxy: p,
      close: async () => {
        await p.close();
        await net.remove().catch(() => undefined);
      },
    };
  } catch (e) {
    await proxy?.close();
    await net.remove().catch(() => undefined);
    throw e;
  }
}
