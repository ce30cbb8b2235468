import type { Capability, CapabilityOpenOptions, OpenedCapability } from '../types.ts';
import type { Grants } from '../../grants/types.ts';
import { siblingModule } from '../module-url.ts';
import { lazyFunction, lazyModule } from '../../lazy.ts';

export type { EgressRoute, RouteOptions, WorkerEgress } from './route.ts';

// Docker's and wasmtime's parts load on their first use: a host that runs only components never loads them.
const dockerPart = lazyModule<typeof import('./docker.ts')>(import.meta.url, './docker');
const wasmtimePart = lazyModule<typeof import('./wasmtime.ts')>(import.meta.url, './wasmtime');

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
  wasmtime: lazyFunction(() => wasmtimePart().networkWasmtime),
  wasmtimeImports: lazyFunction(() => wasmtimePart().networkWasmtimeImports),
  docker: lazyFunction(() => dockerPart().networkDocker),
};
