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
 * A text whose check is remembered (./check-cache.ts) needs no checker: it
 * is answered here, on the caller's thread, from a bounded read, a hash and
 * a few stats (recalledPlugin), and no worker is started for it (a fresh
 * `airlock call` would pay a thread's start, ~60-90 ms, for a lookup). Only a
 * text never checked before goes to the worker.
 *
 * The worker is started on first use and does not keep the process alive
 * while idle. Requests are served one at a time, so a timeout or an abort
 * ends only the request that caused it (the worker is replaced).
 */
import { AirlockError } from '../errors.ts';
import type { ManifestReply, ManifestRequest, SerializedValidation } from '../protocol.ts';
import { WorkerLane } from '../worker-lane.ts';
import { invalidManifest } from './invalid.ts';
import { recalledPlugin, type LoadedManifest, type ValidationResult } from './load.ts';
import { sourceFromPositions } from './positions.ts';

/** Heap of the manifest worker: a capped manifest needs a few MiB; this bounds one that tries for more. */
export const MANIFEST_WORKER_HEAP_MB = 128;
/** A safety bound, not a measurement: a capped manifest checks in milliseconds; this only ends one that never finishes. */
export const MANIFEST_CHECK_TIMEOUT_MS = 30_000;

export interface OffThreadOptions {
  signal?: AbortSignal;
  /** Default MANIFEST_CHECK_TIMEOUT_MS. */
  timeoutMs?: number;
}

const SHRINK = { hint: 'a manifest is a page of fields and small JSON Schemas: shrink it' };

const lane = new WorkerLane<ManifestReply>({
  url: new URL(import.meta.url.endsWith('.ts') ? './off-thread-worker.ts' : './off-thread-worker.js', import.meta.url),
  name: 'airlock:manifest',
  resourceLimits: { maxOldGenerationSizeMb: MANIFEST_WORKER_HEAP_MB, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
  failure: (kind, label, detail) =>
    kind === 'timeout'
      ? new AirlockError('invalid-manifest', `${label}: checking plugin.yaml took longer than ${detail}`, { details: SHRINK })
      : kind === 'memory'
        ? new AirlockError('invalid-manifest', `${label}: checking plugin.yaml needed more than ${MANIFEST_WORKER_HEAP_MB} MiB`, { details: SHRINK })
        : new AirlockError('internal', `the manifest worker failed while checking ${label}: ${detail}`),
});

async function check(path: string, options: OffThreadOptions): Promise<SerializedValidation> {
  const reply = await lane.run((id) => ({ kind: 'validate', id, path }) satisfies ManifestRequest, {
    label: path,
    timeoutMs: options.timeoutMs ?? MANIFEST_CHECK_TIMEOUT_MS,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (reply.kind === 'failed') throw AirlockError.fromJSON(reply.error);
  return reply.result;
}

/** The answer when no checker is needed (see above); undefined sends the text to the worker. */
function recalled(dirOrFile: string): ValidationResult | undefined {
  try {
    return recalledPlugin(dirOrFile);
  } catch {
    // Whatever went wrong here, the worker checks the folder from scratch and reports it.
    return undefined;
  }
}

/** validatePlugin, off the main thread (unless the text's check is remembered: see above). */
export async function validatePluginOffThread(dirOrFile: string, options: OffThreadOptions = {}): Promise<ValidationResult> {
  // As the worker's lane would: an aborted check is not answered, remembered or not.
  if (options.signal?.aborted === true) throw new AirlockError('aborted', `${dirOrFile} was aborted`, { cause: options.signal.reason });
  const known = recalled(dirOrFile);
  if (known !== undefined) return known;
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
