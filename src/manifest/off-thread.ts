/**
 * plugin.yaml checked off the main thread. The manifest is the plugin's
 * text, and checking it costs what the text makes it cost: YAML parsing
 * (~1 ms per KiB here), zod, and the meta-validation and compilation of
 * every tool schema (a 63 KB manifest of 200 tools took 0.5 s). A host that
 * serves other plugins' calls must not stall for that, so PluginHost and the
 * CLI check manifests in one long-lived worker thread, with a heap cap and a
 * time bound: a manifest that needs more is refused, and the host's event
 * loop keeps turning meanwhile.
 *
 * The worker is started on first use and does not keep the process alive
 * while idle. Requests are served one at a time, so a timeout or an abort
 * ends only the request that caused it (the worker is replaced).
 */
import { Worker } from 'node:worker_threads';
import { AirlockError } from '../errors.ts';
import type { ManifestReply, ManifestRequest, SerializedValidation } from '../protocol.ts';
import { invalidManifest, type LoadedManifest, type ValidationResult } from './load.ts';
import { sourceFromPositions } from './source.ts';

const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './off-thread-worker.ts' : './off-thread-worker.js', import.meta.url);

/** Heap of the manifest worker: a capped manifest needs a few MiB; this bounds one that tries for more. */
export const MANIFEST_WORKER_HEAP_MB = 128;
/** A safety bound, not a measurement: a capped manifest checks in milliseconds; this only ends one that never finishes. */
export const MANIFEST_CHECK_TIMEOUT_MS = 30_000;

export interface OffThreadOptions {
  signal?: AbortSignal;
  /** Default MANIFEST_CHECK_TIMEOUT_MS. */
  timeoutMs?: number;
}

interface Request {
  id: number;
  path: string;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  resolve: (r: SerializedValidation) => void;
  reject: (e: AirlockError) => void;
  onAbort: () => void;
}

let worker: Worker | undefined;
let current: Request | undefined;
let timer: NodeJS.Timeout | undefined;
const waiting: Request[] = [];
let nextId = 1;

function start(): Worker {
  const w = new Worker(WORKER_URL, {
    env: {},
    resourceLimits: { maxOldGenerationSizeMb: MANIFEST_WORKER_HEAP_MB, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
  });
  w.on('message', (msg: ManifestReply) => {
    const req = current;
    if (req === undefined || msg?.id !== req.id) return;
    finish();
    if (msg.kind === 'validated') req.resolve(msg.result);
    else req.reject(AirlockError.fromJSON(msg.error));
  });
  w.on('error', (err: Error & { code?: string }) => {
    const req = current;
    stop(w);
    if (req === undefined) return;
    finish();
    req.reject(
      err.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? new AirlockError('invalid-manifest', `${req.path}: checking plugin.yaml needed more than ${MANIFEST_WORKER_HEAP_MB} MiB`, {
            details: { hint: 'a manifest is a page of fields and small JSON Schemas: shrink it' },
          })
        : new AirlockError('internal', `the manifest worker failed while checking ${req.path}: ${err.message}`, { cause: err }),
    );
  });
  w.on('exit', (code) => {
    // Exits Airlock asked for (stop) have already let go of the worker; any other ends the request it held.
    if (worker !== w) return;
    worker = undefined;
    const req = current;
    if (req === undefined) return;
    finish();
    req.reject(new AirlockError('internal', `the manifest worker exited (code ${code}) while checking ${req.path}`));
  });
  return w;
}

function stop(w: Worker): void {
  if (worker === w) worker = undefined;
  void w.terminate();
}

/** Ends the current request's bookkeeping and sends the next one. */
function finish(): void {
  const req = current;
  current = undefined;
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  req?.signal?.removeEventListener('abort', req.onAbort);
  pump();
}

function pump(): void {
  if (current !== undefined) return;
  const req = waiting.shift();
  if (req === undefined) {
    worker?.unref();
    return;
  }
  current = req;
  worker ??= start();
  worker.ref();
  timer = setTimeout(() => {
    // Replaced before the next request is sent: the old worker may still be busy with this one.
    if (worker !== undefined) stop(worker);
    finish();
    req.reject(
      new AirlockError('invalid-manifest', `${req.path}: checking plugin.yaml took longer than ${req.timeoutMs} ms`, {
        details: { hint: 'a manifest is a page of fields and small JSON Schemas: shrink it' },
      }),
    );
  }, req.timeoutMs);
  worker.postMessage({ kind: 'validate', id: req.id, path: req.path } satisfies ManifestRequest);
}

function check(path: string, options: OffThreadOptions): Promise<SerializedValidation> {
  const { signal } = options;
  if (signal?.aborted === true) return Promise.reject(new AirlockError('aborted', `checking ${path} was aborted`, { cause: signal.reason }));
  return new Promise((resolve, reject) => {
    const req: Request = {
      id: nextId++,
      path,
      timeoutMs: options.timeoutMs ?? MANIFEST_CHECK_TIMEOUT_MS,
      signal,
      resolve,
      reject,
      onAbort: () => {
        if (current === req) {
          if (worker !== undefined) stop(worker);
          finish();
        } else {
          waiting.splice(waiting.indexOf(req), 1);
        }
        reject(new AirlockError('aborted', `checking ${path} was aborted`, { cause: signal?.reason }));
      },
    };
    signal?.addEventListener('abort', req.onAbort, { once: true });
    waiting.push(req);
    pump();
  });
}

/** validatePlugin, off the main thread. */
export async function validatePluginOffThread(dirOrFile: string, options: OffThreadOptions = {}): Promise<ValidationResult> {
  const result = await check(dirOrFile, options);
  if (!result.ok) return result;
  const { positions, ...plugin } = result.plugin;
  return { ok: true, plugin: { ...plugin, source: sourceFromPositions(plugin.file, positions) } };
}

/** loadPlugin, off the main thread: throws `invalid-manifest` with every problem. */
export async function loadPluginOffThread(dirOrFile: string, options: OffThreadOptions = {}): Promise<LoadedManifest> {
  const result = await validatePluginOffThread(dirOrFile, options);
  if (result.ok) return result.plugin;
  throw invalidManifest(result.file, result.problems);
}
