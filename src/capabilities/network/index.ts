import type { Capability, CapabilityOpenOptions, OpenedCapability } from '../types.ts';
import type { Grants } from '../../grants/types.ts';
import { siblingModule } from '../module-url.ts';
import { networkDocker } from './docker.ts';
import { networkWasmtime, networkWasmtimeImports } from './wasmtime.ts';

export type { EgressRoute, RouteOptions, WorkerEgress } from './route.ts';

/**
 * Per plugin: its egress route (a loopback proxy) when it has a network
 * grant; the route reaches every instance. The proxy's code is loaded only then.
 */
async function networkOpen(grants: Grants, options: CapabilityOpenOptions): Promise<OpenedCapability | undefined> {
  if (grants.network === null || grants.network.allow.length === 0) return undefined;
  const { startWorkerEgress } = await import('./route.ts');
  const egress = await startWorkerEgress(grants, options.egress);
  return egress === undefined ? undefined : { shared: egress.route, close: () => egress.close() };
}

export const network: Capability = {
  name: 'network',
  open: networkOpen,
  worker: {
    interfaces: ['wasi:sockets/tcp-create-socket', 'wasi:sockets/udp-create-socket', 'wasi:sockets/ip-name-lookup', 'wasi:http/outgoing-handler'],
    module: siblingModule(import.meta.url, './wasi'),
  },
  wasmtime: networkWasmtime,
  wasmtimeImports: networkWasmtimeImports,
  docker: networkDocker,
};
