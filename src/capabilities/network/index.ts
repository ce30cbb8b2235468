import type { Capability } from '../types.ts';
import { networkDocker } from './docker.ts';
import { networkWasmtime } from './wasmtime.ts';
import { networkWasi } from './wasi.ts';

export { isAllowed, parseAuthority, type Target } from './allow.ts';
export { guardOutgoingHandler, HTTP_DENIED, networkWasi } from './wasi.ts';
export { startWorkerEgress, type EgressRoute, type RouteOptions, type WorkerEgress } from './route.ts';

export const network: Capability = { name: 'network', wasi: networkWasi, wasmtime: networkWasmtime, docker: networkDocker };
