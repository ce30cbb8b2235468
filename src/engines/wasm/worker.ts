/**
 * Entry of a wasm worker thread. It starts blank (a standby, ./standby.ts):
 * its own modules and the WASI baseline every component uses are loaded,
 * then it says `standby` and waits. The host hands it one plugin (`adopt`):
 * it imports the glue Airlock generated and only the capabilities' parts the
 * component imports, instantiates the component from the core modules the
 * host compiled, says `ready`, then serves calls from the fast channel until
 * the host closes it or terminates the thread. Started with an empty env.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadWasi, type WasiRuntime, warmWasi } from '../../capabilities/worker.ts';
import { AirlockError } from '../../errors.ts';
import type { WasmAdoptMessage, WasmPluginData, WasmWorkerData, WasmWorkerMessage } from '../../protocol.ts';
import { Channel, CLOSED, REQUEST } from './channel.ts';
import { type LoadedGlue, loadGlue, type PreparedGlue, prepareGlue } from './glue-load.ts';
import { createInstance, runCall, type LiveInstance } from './instance.ts';
import type { InstantiateFn } from './types.ts';
import { writeUsage } from './usage.ts';

/** How long the worker sleeps in Atomics.wait before letting its event loop turn. */
const IDLE_SLICE_MS = 50;
/**
 * Under load the worker still lets its event loop turn this often: jco's
 * glue schedules timers per instance (its async task machinery), and an
 * instance whose timers never run is never freed. Without this, per-call
 * isolation grew the heap by ~250 KB per call and stalled for 200 ms in GC.
 */
const YIELD_EVERY_MS = 2;

const turnEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

function post(msg: WasmWorkerMessage): void {
  parentPort?.postMessage(msg);
}

function validate(msg: unknown): WasmPluginData {
  const d = (msg as Partial<WasmAdoptMessage> | null)?.plugin as Partial<WasmPluginData> | undefined;
  if (
    (msg as Partial<WasmAdoptMessage> | null)?.type !== 'adopt' ||
    d === null ||
    typeof d !== 'object' ||
    typeof d.glueUrl !== 'string' ||
    typeof d.glueName !== 'string' ||
    (d.glueScript !== undefined && (typeof d.glueScript?.path !== 'string' || typeof d.glueScript.cache !== 'string')) ||
    !(d.channel instanceof SharedArrayBuffer) ||
    typeof d.capabilities !== 'object' ||
    d.capabilities === null ||
    typeof d.modules !== 'object' ||
    typeof d.wasi !== 'object' ||
    !(d.usage instanceof SharedArrayBuffer) ||
    d.grants === undefined
  ) {
    throw new AirlockError('internal', 'wasm worker adopted without valid plugin data');
  }
  return d as WasmPluginData;
}

/** The one plugin this worker will serve (the host's first message). */
function adoption(): Promise<unknown> {
  return new Promise((resolve) => parentPort?.once('message', resolve));
}

async function main(): Promise<void> {
  const start = workerData as Partial<WasmWorkerData> | null;
  if (start?.kind !== 'airlock-wasm-worker') throw new AirlockError('internal', 'wasm worker started without its workerData');
  // What most components need, loaded while nobody waits: the common WASI parts, and what Node loads on
  // first use: `performance`, the thread CPU clock, a channel's text codecs and views (~2.5 ms otherwise).
  const warmed = await warmWasi(start.interfaces);
  performance.now();
  process.threadCpuUsage();
  const scratch = Channel.create(0);
  scratch.sendResponse({ kind: 'ok', output: '', stdout: '', stderr: '', truncated: false });
  scratch.readRequest();
  let adopting = false;
  const adopted = adoption().then((msg) => {
    adopting = true;
    return msg;
  });
  post({ type: 'standby' });
  // Settled once the threads the shim started (for a guessed plugin with wasi:http or wasi:sockets) have booted
  // and the glue of the plugin adopted last is compiled (neither once a plugin came first: its start goes on now;
  // a host waiting for this worker to settle hears it all the same).
  let prepared: PreparedGlue | undefined;
  void warmed.threadsOnline.then(async () => {
    // A worker a load waits for is adopted at once: nothing to settle for. Each blocking step waits for the
    // event loop's turn first, so an adoption already queued is seen (and goes first).
    const idle = async (): Promise<boolean> => {
      await turnEventLoop();
      return !adopting && start.awaited !== true;
    };
    try {
      if (await idle()) warmed.ioRoundTrip();
    } catch {
      // Only slower: the shim's thread failed on its own; the plugin that uses it gets that error then.
    }
    if (await idle()) prepared = prepareGlue(start.glue);
    post({ type: 'settled' });
  });
  let data: WasmPluginData;
  let wasi: WasiRuntime;
  let glue: LoadedGlue;
  let instantiate: InstantiateFn;
  let instance: LiveInstance | undefined;
  try {
    data = validate(await adopted);
    const loaded = await Promise.all([loadGlue(data, prepared), loadWasi(data.grants, data.wasi)]);
    // Another plugin's guess is garbage now.
    prepared = undefined;
    glue = loaded[0];
    instantiate = glue.instantiate;
    wasi = loaded[1];
    // Instantiate once even for per-call isolation: a component that cannot start fails load(), not the first call.
    instance = createInstance(instantiate, data.modules, wasi, data.capabilities);
  } catch (e) {
    const err = e instanceof AirlockError ? e : new AirlockError('crash', `wasm worker failed to start: ${e instanceof Error ? e.message : String(e)}`);
    post({ type: 'init-error', error: err.toJSON() });
    return;
  }
  const { grants, modules } = data;
  const perCall = grants.isolation === 'per-call';
  const channel = new Channel(data.channel);
  channel.setSpare(true);
  post({ type: 'ready', glue: glue.prepared === true ? 'prepared' : glue.fromCache ? 'cached' : 'compiled' });

  const spinMs = data.spinMicros / 1000;
  let lastResponse = 0;
  let lastYield = performance.now();
  for (;;) {
    const state = channel.state;
    if (state === CLOSED) break;
    // Right after an answer, watch for the next request for a few microseconds
    // before sleeping: a futex wake costs more than the call itself.
    if (state !== REQUEST && spinMs > 0 && performance.now() - lastResponse < spinMs) continue;
    if (state !== REQUEST) {
      if (Atomics.wait(channel.ctl, 0, state, IDLE_SLICE_MS) === 'timed-out') {
        // Let timers, finalizers and the shim's housekeeping run now and then.
        await turnEventLoop();
        lastYield = performance.now();
      }
      continue;
    }
    const req = channel.readRequest();
    channel.setSpare(false);
    let outcome;
    try {
      if (instance === undefined) instance = createInstance(instantiate, modules, wasi, data.capabilities);
      outcome = runCall(instance, grants, req.tool, req.input);
    } catch (e) {
      const err = e instanceof AirlockError ? e : new AirlockError('trap', `instantiating the component failed: ${e instanceof Error ? e.message : String(e)}`);
      outcome = {
        response: { kind: 'error' as const, error: err.toJSON(), stdout: '', stderr: '', truncated: false },
        poisoned: true,
        usage: { cpuMs: 0, memoryPeakBytes: 0, files: { reads: 0, readBytes: 0, writes: 0, writeBytes: 0 }, networkRefused: [] },
      };
    }
    // Once, after the first call and before its answer (a host that closes the plugin on the answer would
    // end the thread first): the code cache then holds what that call compiled too.
    glue.saveCache();
    writeUsage(data.usage, outcome.usage);
    // Never reuse an instance after a trap; with per-call isolation never reuse one at all.
    if (outcome.poisoned || perCall) {
      instance?.release();
      instance = undefined;
    }
    try {
      channel.sendResponse(outcome.response);
    } catch (e) {
      const err = new AirlockError('internal', `could not send the response: ${e instanceof Error ? e.message : String(e)}`);
      channel.sendResponse({ kind: 'error', error: err.toJSON(), stdout: '', stderr: '', truncated: false });
    }
    lastResponse = performance.now();
    if (lastResponse - lastYield > YIELD_EVERY_MS) {
      await turnEventLoop();
      lastYield = performance.now();
    }
    // Build the next instance now, while the host is busy with the answer.
    if (instance === undefined) {
      try {
        instance = createInstance(instantiate, modules, wasi, data.capabilities);
      } catch {
        instance = undefined; // reported by the next call
      }
    }
    channel.setSpare(instance !== undefined);
  }
}

await main();
