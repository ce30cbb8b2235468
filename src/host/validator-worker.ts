/**
 * The validator thread: checks a JSON text against a plugin's schema away
 * from the host's event loop. Only large values come here (small ones are
 * checked inline, see catalog.ts); their cost (a quadratic `uniqueItems`, a
 * pattern over megabytes) is then paid on this thread, under a deadline and
 * a heap cap that the host enforces by ending the thread.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { ValidateFunction } from 'ajv';
import { lazyModule } from '../lazy.ts';
import { MAX_ERRORS, VALIDATOR_THREAD, type ValidateJob, type ValidateReply } from './validator-protocol.ts';

/** Ajv, loaded by the first compile: the host imports this module's types and constants too. */
const regexp = lazyModule<typeof import('../manifest/regexp.ts')>(import.meta.url, '../manifest/regexp');

/** Compiled schemas kept; the oldest is dropped past it. */
const MAX_COMPILED = 256;

const compiled = new Map<string, ValidateFunction>();

function validatorFor(job: ValidateJob): ValidateFunction {
  let v = compiled.get(job.key);
  if (v === undefined) {
    // Tool schemas are 2020-12 once loaded (see dialect.ts).
    v = regexp().pluginAjv2020({ allErrors: true }).compile(job.schema);
    compiled.set(job.key, v);
    if (compiled.size > MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
  }
  return v;
}

if (workerData === VALIDATOR_THREAD) {
  try {
    // A lower priority, for this thread only (Linux applies setpriority(pid 0) to the calling thread):
    // a check that burns its whole deadline then yields the cores to the event loop and the plugins'
    // threads. Not the lowest: under load, an honest check must still finish within its deadline.
    setPriority(10);
  } catch {
    // Not permitted here: the deadline still bounds the check.
  }
}

if (workerData === VALIDATOR_THREAD)
  parentPort?.on('message', (job: ValidateJob) => {
    let reply: ValidateReply;
    try {
      const validate = validatorFor(job);
      const valid = validate(JSON.parse(job.text)) as boolean;
      reply = { id: job.id, valid, errors: (validate.errors ?? []).slice(0, MAX_ERRORS).map((e) => ({ instancePath: e.instancePath, message: e.message })) };
    } catch (err) {
      reply = {
        id: job.id,
        valid: false,
        errors: [],
        failure: err instanceof RangeError ? 'it is nested too deeply to check' : err instanceof Error ? err.message : String(err),
      };
    }
    parentPort?.postMessage(reply);
  });
