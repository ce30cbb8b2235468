export { inThreadTarget, loadInThread, workerTarget, type InThreadPlugin } from './wasm.ts';
export { wasmtimeRunTarget, wasmtimeTarget } from './wasmtime.ts';
export { dockerPerCallTarget, dockerRunArgs, dockerRunTarget, dockerWarmTarget } from './docker.ts';
export { kubernetesWarmTarget } from './kubernetes.ts';
export { runProcess, type ProcessRun } from './process.ts';
export { EXTISM_SDK_VERSION, extismBenchModule, extismMainTarget, extismWorkerTarget } from './extism.ts';

import type { Target, TargetName } from '../target.ts';
import { inThreadTarget, workerTarget } from './wasm.ts';
import { wasmtimeRunTarget, wasmtimeTarget } from './wasmtime.ts';
import { dockerPerCallTarget, dockerRunTarget, dockerWarmTarget } from './docker.ts';
import { extismMainTarget, extismWorkerTarget } from './extism.ts';
import { kubernetesWarmTarget } from './kubernetes.ts';

/** Every target, in the order tables and charts show them: the no-isolation baseline first. */
export const ALL_TARGETS: Record<TargetName, Target> = {
  'in-thread': inThreadTarget,
  worker: workerTarget,
  wasmtime: wasmtimeTarget,
  'wasmtime-run': wasmtimeRunTarget,
  'docker-warm': dockerWarmTarget,
  'docker-per-call': dockerPerCallTarget,
  'docker-run': dockerRunTarget,
  'kubernetes-warm': kubernetesWarmTarget,
  extism: extismMainTarget,
  'extism-worker': extismWorkerTarget,
};
