/**
 * The one error type Airlock throws. Callers branch on `code` (stable strings,
 * part of the public API); `message` is for people and names the bad value and
 * where it came from; `cause` keeps the underlying error.
 */
export const ERROR_CODES = [
  /** plugin.yaml (or a host policy file) is malformed; see `problems`. */
  'invalid-manifest',
  /** A host policy file is malformed; see `problems`. */
  'invalid-policy',
  /** A tool's input does not match its schema. */
  'invalid-input',
  /** The tool's output does not match its output schema. */
  'invalid-output',
  /** The manifest asks for more than the host policy allows; see `problems`. */
  'permission-denied',
  /** A call ran past `resources.timeout`. */
  'timeout',
  /** A plugin went past `resources.memory`. */
  'memory-limit',
  /** A result went past `resources.output`. */
  'output-limit',
  /** The guest trapped (wasm) or threw outside a tool. */
  'trap',
  /** The sandbox process or container died. */
  'crash',
  /** The call queue is full. */
  'overloaded',
  /** The engine chosen for a plugin cannot run here; the message says how to install it. */
  'engine-unavailable',
  /** The call was aborted by its AbortSignal. */
  'aborted',
  /** Building a plugin (component or image) failed. */
  'build-failed',
  /** No such plugin or tool. */
  'not-found',
  /** A name is already taken (a plugin or agent loaded twice). */
  'conflict',
  /** A tool returned an error of its own (the plugin's code is in `details.pluginCode`). */
  'plugin-error',
  /** A plugin or one of its tools is not what the lock file recorded (src/trust/lock.ts); re-lock after review. */
  'lock-mismatch',
  /** The trust policy requires a signature and the plugin has none (src/trust/policy.ts). */
  'signature-missing',
  /** A signature does not verify, or signs another plugin, version or digest. */
  'signature-invalid',
  /** A valid signature by a key the trust policy does not allow for this plugin name. */
  'untrusted-signer',
  /** Bytes from a registry are not those their digest (or the lock or signature) names (src/trust/oci/). */
  'digest-mismatch',
  /** An OCI registry refused a request, could not be reached, or answered with something that is not an Airlock plugin. */
  'registry-error',
  /** A bug in Airlock itself. */
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** One problem found in a file: where, what and how to fix it. */
export interface Problem {
  /** File the problem is in (absolute or as given by the caller). */
  file: string;
  /** 1-based line and column; absent when the problem is not tied to a position. */
  line?: number;
  column?: number;
  /** Field path, dotted with [index] for list items, e.g. `tools[0].input`. Empty for the whole document. */
  path: string;
  /** What is wrong, naming the bad value. */
  message: string;
  /** How to fix it. */
  hint?: string;
  /** Lines of the file shown under the problem (a compiler's source line and caret), one line each. */
  excerpt?: string[];
}

export interface AirlockErrorOptions {
  cause?: unknown;
  problems?: Problem[];
  details?: Record<string, unknown>;
  /** What to do about it, when Airlock can tell (only where it matches the error); the CLI prints it. */
  hint?: string | undefined;
}

export class AirlockError extends Error {
  readonly code: ErrorCode;
  readonly problems: Problem[];
  readonly details: Record<string, unknown>;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: AirlockErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AirlockError';
    this.code = code;
    this.problems = options.problems ?? [];
    this.details = options.details ?? {};
    this.hint = options.hint;
  }

  /** A plain object that survives structured clone and JSON (for worker and wire protocols). */
  toJSON(): SerializedError {
    return {
      code: this.code,
      message: this.message,
      problems: this.problems,
      details: this.details,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
    };
  }

  static fromJSON(data: SerializedError): AirlockError {
    return new AirlockError(data.code, data.message, { problems: data.problems, details: data.details, hint: data.hint });
  }
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  problems: Problem[];
  details: Record<string, unknown>;
  hint?: string;
}

export function isAirlockError(value: unknown, code?: ErrorCode): value is AirlockError {
  return value instanceof AirlockError && (code === undefined || value.code === code);
}

/** `file:line:column: path: message (hint)` — the one-line form the CLI prints (then an excerpt's lines, if any). */
export function formatProblem(p: Problem): string {
  // One line per problem: a plugin value quoted in it (a path with newlines) cannot add lines that look like others.
  const line = (s: string): string => s.replaceAll('\n', '\\n');
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.column ?? 1}`;
  const field = p.path === '' ? '' : `${line(p.path)}: `;
  const hint = p.hint === undefined ? '' : ` (fix: ${line(p.hint)})`;
  // An excerpt's lines follow, each marked as one (`  | `): whatever they hold, they read as the file's, not as problems.
  const excerpt = (p.excerpt ?? []).map((l) => `\n  | ${line(l)}`).join('');
  return `${line(where)}: ${field}${line(p.message)}${hint}${excerpt}`;
}
