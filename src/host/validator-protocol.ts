/**
 * What the host and the validator thread (validator-worker.ts) exchange, and
 * the bounds both apply: a module of its own, so the host (catalog.ts,
 * validator-thread.ts) does not import the thread's entry (and
 * node:worker_threads with it) to name them.
 */

export interface ValidateJob {
  id: number;
  /** Names the compiled schema; the schema itself is sent too, and compiled the first time a key is seen. */
  key: string;
  schema: Record<string, unknown>;
  text: string;
}

export interface ValidateReply {
  id: number;
  valid: boolean;
  /** The first errors only: a million failing items would otherwise be a million objects sent back. */
  errors: { instancePath: string; message?: string }[];
  /** Set when the text could not be checked at all (nesting deeper than the stack, say). */
  failure?: string;
}

/** Errors reported per value. */
export const MAX_ERRORS = 20;
/** Marks the thread the validator's entry serves, so importing it anywhere else listens to nothing. */
export const VALIDATOR_THREAD = 'airlock-validator';
