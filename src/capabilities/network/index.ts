import type { Capability, CapabilityOpenOptions, OpenedCapability } from '../types.ts';
import type { Grants } from '../../grants/types.ts';
import { startWorkerEgress } from './route.ts';
import { networkDocker } from './docker.ts';
import { networkWasmtime, networkWasmtimeImports } from './wasmtime.ts';
import { networkWasi } from './wasi.ts';

export { isAllowed, parseAuthority, type Target } from './allow.ts';
export { guardOutgoingHandler, HTTP_DENIED, networkWasi } from './wasi.ts';
export { startWorkerEgress, type EgressRoute, type RouteOptions, type WorkerEgress } from './route.ts';

/** Per plugin: its egress route (a loopback proxy) when it has a network grant; the route reaches every instance. */
async function networkOpen(grants: Grants, options: CapabilityOpenOptions): Promise<OpenedCapability | undefined> {
  const egress = await startWorkerEgress(grants, options.egress);
  return egress === undefined ? undefined : { shared: egress.route, close: () => egress.close() };
}

export const network: Capability = {
  name: 'network',
  open: networkOpen,
  wasi: networkWasi,
  wasmtime: networkWasmtime,
  wasmtimeImports: networkWasmtimeImports,
  docker: networkDocker,
  beginCall: (_grants, call) => {
    call.egressRefused?.splice(0);
  },
};
