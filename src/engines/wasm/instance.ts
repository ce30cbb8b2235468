/**
 * One live instance of a plugin component, in the current thread: built from
 * already-compiled core modules and the grants' WASI imports, and the mapping
 * of everything a call can end with to an outcome. Used inside workers, and
 * in-thread by the benchmark's baseline.
 */
import type { CallState, WasiRuntime } from '../../capabilities/worker.ts';
import { AirlockError, type SerializedError } from '../../errors.ts';
import type { Grants } from '../../grants/types.ts';
import type { WasmCallResponse } from '../../protocol.ts';
import { TOOLS_INTERFACE_VERSIONED } from '../../wit.ts';
import type { EngineUsage } from '../types.ts';
import { pluginError, trapSummary } from '../plugin-error.ts';
import type { InstantiateFn } from './types.ts';
import { Wasm, type WasmInstance, type WasmMemory, type WasmModule } from '../../wasm-api.ts';

type CallFn = (name: string, input: string) => string;

export interface LiveInstance {
  call: CallFn;
  memories: WasmMemory[];
  state: CallState;
  /** Resets the call state before a call (the capabilities' parts). */
  beginCall(): void;
  /** Frees what the instance holds outside the wasm heap (open fds); call once, when dropping it. */
  release(): void;
}

/**
 * Instantiates synchronously (no await: the worker's loop stays synchronous).
 * `wasi`: the plugin's loaded WASI plan (capabilities/worker.ts loadWasi);
 * `shared`: what the capabilities opened for the plugin, by capability name.
 */
export function createInstance(
  instantiate: InstantiateFn,
  modules: Record<string, WasmModule>,
  wasi: WasiRuntime,
  shared: Readonly<Record<string, unknown>> = {},
): LiveInstance {
  const state: CallState = wasi.newCallState();
  const releases: (() => void)[] = [];
  const release = (): void => {
    for (const fn of releases.splice(0)) fn();
  };
  const imports = wasi.imports(state, { shared, onRelease: (fn) => releases.push(fn) });
  const memories: WasmMemory[] = [];
  const getCoreModule = (name: string): WasmModule => {
    const m = modules[name];
    if (m === undefined) throw new AirlockError('build-failed', `transpiled glue asks for core module ${name}, which the transpile step did not produce`);
    return m;
  };
  const instantiateCore = (module: WasmModule, imp: object): WasmInstance => {
    const inst = new Wasm.Instance(module, imp);
    for (const v of Object.values(inst.exports)) if (v instanceof Wasm.Memory) memories.push(v);
    return inst;
  };
  let result;
  try {
    result = instantiate(getCoreModule, imports, instantiateCore);
  } catch (e) {
    release();
    throw e;
  }
  if (result instanceof Promise) throw new AirlockError('internal', 'glue instantiated asynchronously although the core instantiation was synchronous');
  const exportsObj = result as Record<string, { call?: unknown } | undefined>;
  const call = exportsObj[TOOLS_INTERFACE_VERSIONED]?.call ?? exportsObj.tools?.call;
  if (typeof call !== 'function') {
    release();
    throw new AirlockError('build-failed', `the component does not export ${TOOLS_INTERFACE_VERSIONED} (see wit/airlock-plugin.wit)`);
  }
  return { call: call as CallFn, memories, state, beginCall: () => wasi.beginCall(state), release };
}

/** How close to the cap a memory must be for a trap to count as running out of memory. */
const MEMORY_SLACK_BYTES = 2 * 1024 * 1024;

function isPluginError(e: unknown): e is { code: string; message: string } {
  if (typeof e !== 'object' || e === null || e instanceof Error) return false;
  const r = e as Record<string, unknown>;
  return typeof r.code === 'string' && typeof r.message === 'string';
}

/** jco wraps a result's err payload in a ComponentError with `payload` unless told not to. */
function unwrapPayload(e: unknown): unknown {
  if (e instanceof Error && 'payload' in e) return (e as { payload: unknown }).payload;
  return e;
}

export interface CallOutcome {
  response: WasmCallResponse;
  /** True when the instance must not be used again (it trapped). */
  poisoned: boolean;
  /** What the call used: this thread's CPU while the guest ran, the instance's linear memory, its file reads and writes. */
  usage: Required<EngineUsage>;
}

/** Linear memory only grows, so its size now is the instance's peak. */
function memoryBytes(inst: LiveInstance): number {
  return inst.memories.reduce((sum, mem) => sum + mem.buffer.byteLength, 0);
}

/** Runs one call on `inst` and maps every ending to a response. Never throws. */
export function runCall(inst: LiveInstance, grants: Grants, tool: string, input: string): CallOutcome {
  inst.beginCall();
  const logs = inst.state.logs;
  const cpu = process.threadCpuUsage();
  const done = (response: { kind: 'ok'; output: string } | { kind: 'error'; error: SerializedError }, poisoned: boolean): CallOutcome => {
    const used = process.threadCpuUsage(cpu);
    return {
      response: { ...response, stdout: logs.text('stdout'), stderr: logs.text('stderr'), truncated: logs.truncated } as WasmCallResponse,
      poisoned,
      usage: {
        cpuMs: (used.user + used.system) / 1000,
        memoryPeakBytes: memoryBytes(inst),
        files: { ...(inst.state.files ?? { reads: 0, readBytes: 0, writes: 0, writeBytes: 0 }) },
        networkRefused: [...(inst.state.egressRefused ?? [])],
      },
    };
  };
  let output: string;
  try {
    output = inst.call(tool, input);
  } catch (thrown) {
    const e = unwrapPayload(thrown);
    if (isPluginError(e)) {
      return done({ kind: 'error', error: pluginError(`tool ${tool}`, e.code, e.message).toJSON() }, false);
    }
    return done({ kind: 'error', error: trapError(inst, grants, tool, thrown) }, true);
  }
  if (typeof output !== 'string') {
    return done({ kind: 'error', error: new AirlockError('trap', `tool ${tool} returned a ${typeof output}, not a string`).toJSON() }, true);
  }
  // Cheap bound first: a UTF-16 string of n units is at most 3n UTF-8 bytes.
  if (output.length * 3 > grants.resources.outputBytes) {
    const size = Buffer.byteLength(output, 'utf8');
    if (size > grants.resources.outputBytes) {
      const err = new AirlockError('output-limit', `tool ${tool} returned ${size} bytes, over resources.output (${grants.resources.outputBytes} bytes)`, {
        details: { outputBytes: size, limitBytes: grants.resources.outputBytes },
      });
      return done({ kind: 'error', error: err.toJSON() }, false);
    }
  }
  return done({ kind: 'ok', output }, false);
}

function trapError(inst: LiveInstance, grants: Grants, tool: string, thrown: unknown): SerializedError {
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  const cap = grants.resources.memoryBytes;
  const used = inst.memories.reduce((m, mem) => Math.max(m, mem.buffer.byteLength), 0);
  const oom = used + MEMORY_SLACK_BYTES >= cap || /out of memory|memory allocation|Cannot enlarge memory/i.test(message);
  if (oom) {
    return new AirlockError(
      'memory-limit',
      `tool ${tool} ran out of memory: its linear memory reached ${used} bytes of the ${cap} allowed by resources.memory (${message})`,
      {
        details: { usedBytes: used, limitBytes: cap, trap: message },
      },
    ).toJSON();
  }
  const said = trapSummary(inst.state.logs.text('stderr'));
  return new AirlockError('trap', `tool ${tool} trapped: ${message}${said === undefined ? '' : `; ${said}`}`, { details: { trap: message } }).toJSON();
}
