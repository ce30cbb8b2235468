/**
 * The tools an agent can see: names as agents and models see them
 * (`plugin_tool`), their schemas, compiled validators, MCP annotations, and
 * the OpenAI / Anthropic tool formats.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { AirlockError, type Problem } from '../errors.ts';
import type { Grants } from '../grants/types.ts';
import type { Tool, ToolAnnotations } from '../manifest/index.ts';
import { toDraft2020 } from '../manifest/dialect.ts';
import { lazyModule } from '../lazy.ts';
import { validateOffThread } from './validator-thread.ts';
import { MAX_ERRORS } from './validator-protocol.ts';
import { recalledValidator, recalledValidatorCode, rememberValidator, VALIDATOR_OPTIONS, validatorFromCode } from './validator-cache.ts';

/** Ajv, loaded by the first validator compiled (a tool's first call), not by importing the host. */
const regexp = lazyModule<typeof import('../manifest/regexp.ts')>(import.meta.url, '../manifest/regexp');

export interface ToolInfo {
  /** `plugin_tool`: valid for MCP, OpenAI and Anthropic (`^[a-zA-Z0-9_-]{1,64}$`). */
  name: string;
  plugin: string;
  tool: string;
  description: string;
  /** JSON Schema 2020-12 (converted from the manifest's draft-07, see dialect.ts), as validated and as sent. */
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  /** MCP tool annotations: derived from the grants, narrowed by the author's claims (`annotationsFor`). */
  annotations: McpAnnotations;
}

export interface McpAnnotations {
  readOnlyHint: boolean;
  openWorldHint: boolean;
  /** Only when not read-only and the author said it (absent: destructive, MCP's default). */
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  title?: string;
}

export interface OpenAITool {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

export interface AnthropicTool {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
}

export function qualifiedName(plugin: string, tool: string): string {
  return `${plugin}_${tool}`;
}

export function toolInfo(plugin: string, tool: Tool, grants: Grants): ToolInfo {
  const info: ToolInfo = {
    name: qualifiedName(plugin, tool.name),
    plugin,
    tool: tool.name,
    description: tool.description,
    inputSchema: schemasOf(tool).input,
    annotations: annotationsFor(grants, tool.annotations),
  };
  const output = schemasOf(tool).output;
  if (output !== undefined) info.outputSchema = output;
  return info;
}

const converted = new WeakMap<Tool, { input: Record<string, unknown>; output: Record<string, unknown> | undefined }>();

/** A tool's schemas in 2020-12, converted once per loaded tool: what the catalog shows and the validators check. */
function schemasOf(tool: Tool): { input: Record<string, unknown>; output: Record<string, unknown> | undefined } {
  let s = converted.get(tool);
  if (s === undefined) converted.set(tool, (s = { input: toDraft2020(tool.input), output: tool.output === undefined ? undefined : toDraft2020(tool.output) }));
  return s;
}

/**
 * MCP hints from what the plugin may actually touch, narrowed by what its
 * author claims. readOnlyHint only when nothing is writable: no read-write
 * mount and no network (an outgoing request can change the world just as a
 * file write can, so a networked tool is never advertised as read-only), and
 * the author did not say otherwise (`readOnly: false`, `destructive: true`).
 * It speaks of the host's files and network, not of memory a pooled instance
 * keeps between calls (README, "Tool annotations"). openWorldHint exactly when
 * network is granted. destructiveHint is the author's `false` only without a
 * read-write mount (the manifest already refuses the pair; the grants decide
 * here too). idempotentHint and title are the author's word.
 */
export function annotationsFor(grants: Grants, claims: ToolAnnotations = {}): McpAnnotations {
  const network = grants.network !== null;
  const readWrite = grants.filesystem.some((f) => f.access === 'read-write');
  const readOnly = !network && !readWrite && claims.readOnly !== false && claims.destructive !== true;
  const hints: McpAnnotations = { readOnlyHint: readOnly, openWorldHint: network };
  // Absent means destructive to MCP clients: said only when the author said it.
  if (!readOnly && claims.destructive !== undefined) hints.destructiveHint = readWrite || claims.destructive;
  if (claims.idempotent !== undefined) hints.idempotentHint = claims.idempotent;
  if (claims.title !== undefined) hints.title = claims.title;
  return hints;
}

export function toOpenAITool(t: ToolInfo): OpenAITool {
  return { type: 'function', function: { name: t.name, description: t.description, parameters: t.inputSchema } };
}

export function toAnthropicTool(t: ToolInfo): AnthropicTool {
  return { name: t.name, description: t.description, input_schema: t.inputSchema };
}

/**
 * Checking a value costs up to the product of its size and its schema's
 * (`uniqueItems` is quadratic in the items, a pattern linear in the text).
 * Small values are checked inline, where that cost is bounded by these sizes;
 * larger ones on the validator thread, under the call's remaining timeout.
 * A schema with no `uniqueItems`, `pattern` or `patternProperties` costs time
 * linear in the value, so it is trusted with more.
 */
export const INLINE_BYTES = { linear: 64 * 1024, any: 1024 } as const;
const COSTLY = new Set(['uniqueItems', 'pattern', 'patternProperties']);

let nextKey = 0;

type PluginAjv = ReturnType<typeof import('../manifest/regexp.ts').pluginAjv2020>;

/** An Ajv made ahead (prepareValidators), for the next tool whose validator is compiled. */
let spare: PluginAjv | undefined;

function newAjv(): PluginAjv {
  // No meta-schema check here: the manifest thread checked each schema against its meta-schema and compiled it,
  // and dialect.ts keeps its meaning in 2020-12; compiling the 2020-12 meta-schema first cost a fresh
  // process ~60 ms of its first call (issue 21). The generated code is kept (./validator-cache.ts).
  return regexp().pluginAjv2020({ ...VALIDATOR_OPTIONS, code: { source: true } });
}

/** How many tools prepareValidators looks at for a kept validator (a load's work stays bounded, whatever the catalogue). */
export const PREPARE_LOOKUPS = 16;

/**
 * Readies the first calls of these tools while an engine starts them off
 * this thread (a worker thread boots and instantiates). When a tool's
 * validator is kept (./validator-cache.ts; the first PREPARE_LOOKUPS tools
 * are looked at, up to the first kept one, whose code is read), the call is
 * presumed to be to such a tool and nothing more is done: no Ajv (a tool
 * called for the first time then loads it itself). Otherwise (a plugin not
 * called on this machine yet, or since it or Airlock changed) Ajv is loaded
 * and the next tool's instance made ahead, its code warmed on a schema of no
 * plugin's, so a fresh process's first call does not load and warm Ajv after
 * the engine is ready (issue 21). At most one Ajv is kept.
 */
export function prepareValidators(tools: Iterable<ToolValidators> = []): void {
  let looked = 0;
  for (const v of tools) {
    if (v.recall()) return;
    if (++looked >= PREPARE_LOOKUPS) break;
  }
  prepareAjv();
}

function prepareAjv(): void {
  if (spare !== undefined) return;
  spare = newAjv();
  spare.compile({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] });
}

/**
 * Validators compiled once per loaded tool, on its first call: compiling is
 * code generation over the plugin's schemas, so a plugin of many tools does
 * not cost its whole catalogue on the event loop at load (the manifest check,
 * off the main thread, already proved each one compiles). Each tool gets its
 * own Ajv: one shared instance refuses a second schema with the same `$id`,
 * which is exactly what loading a plugin for two agents, or reloading it,
 * would compile.
 */
export class ToolValidators {
  #input: ValidateFunction | undefined;
  #output: ValidateFunction | undefined;
  #ajv: PluginAjv | undefined;
  readonly #schemas: ReturnType<typeof schemasOf>;
  readonly #key = `s${nextKey++}`;
  readonly #inline: { input: number; output: number };
  /** Validator code read ahead (recall), run on first use. */
  readonly #kept: { input?: string | undefined; output?: string | undefined } = {};

  constructor(tool: Tool) {
    this.#schemas = schemasOf(tool);
    this.#inline = { input: inlineLimit(tool.input), output: tool.output === undefined ? 0 : inlineLimit(tool.output) };
  }

  get input(): ValidateFunction {
    return (this.#input ??= this.#compile(this.#schemas.input, this.#kept.input));
  }

  get output(): ValidateFunction | undefined {
    const schema = this.#schemas.output;
    return schema === undefined ? undefined : (this.#output ??= this.#compile(schema, this.#kept.output));
  }

  /** Reads the kept code of this tool's validators not compiled yet; false when one of them is not kept. */
  recall(): boolean {
    if (this.#input === undefined) this.#kept.input ??= recalledValidatorCode(this.#schemas.input);
    const output = this.#schemas.output;
    if (output !== undefined && this.#output === undefined) this.#kept.output ??= recalledValidatorCode(output);
    return (
      (this.#input !== undefined || this.#kept.input !== undefined) && (output === undefined || this.#output !== undefined || this.#kept.output !== undefined)
    );
  }

  #compile(schema: Record<string, unknown>, kept: string | undefined): ValidateFunction {
    const recalled = kept === undefined ? recalledValidator(schema) : runKept(kept);
    if (recalled !== undefined) return recalled;
    if (this.#ajv === undefined) {
      this.#ajv = spare ?? newAjv();
      spare = undefined;
    }
    const compiled = this.#ajv.compile(schema);
    const ajv = this.#ajv;
    // After this call: writing the code down is not the caller's wait.
    setImmediate(() => rememberValidator(schema, ajv, compiled));
    return compiled;
  }

  /**
   * Throws `invalid-input` naming each field that does not match, before anything reaches a sandbox. `text` is
   * `input` as JSON. Returns a promise only when the check runs off the event loop (the warm path stays synchronous).
   */
  checkInput(name: string, input: unknown, text: string, deadlineMs: number): void | Promise<void> {
    return this.#check('input', () => this.input, this.#schemas.input, name, input, text, deadlineMs);
  }

  /** Throws `invalid-output` naming each field that does not match; `text` is the result as the plugin wrote it. */
  checkOutput(name: string, output: unknown, text: string, deadlineMs: number): void | Promise<void> {
    const schema = this.#schemas.output;
    if (schema === undefined) return;
    return this.#check('output', () => this.output!, schema, name, output, text, deadlineMs);
  }

  #check(
    which: 'input' | 'output',
    compiled: () => ValidateFunction,
    schema: Record<string, unknown>,
    name: string,
    value: unknown,
    text: string,
    deadlineMs: number,
  ): void | Promise<void> {
    if (text.length <= this.#inline[which]) {
      let errors: ValidationError[] | undefined;
      try {
        const inline = compiled();
        errors = inline(value) ? undefined : (inline.errors ?? []).slice(0, MAX_ERRORS);
      } catch (err) {
        // Deep nesting under a recursive schema overflows the stack: the value cannot be checked, so it is refused.
        errors = [{ instancePath: '', message: `cannot be checked (${err instanceof RangeError ? 'nested too deeply' : String(err)})` }];
      }
      if (errors !== undefined) refuse(which, name, errors);
      return;
    }
    return validateOffThread(`${this.#key}:${which}`, schema, text, deadlineMs, `the ${which} of ${name}`).then((reply) => {
      if (reply.failure !== undefined) refuse(which, name, [{ instancePath: '', message: `cannot be checked (${reply.failure})` }]);
      if (!reply.valid) refuse(which, name, reply.errors);
    });
  }
}

/** Kept code read ahead, run; undefined when it cannot be (compiled anew). */
function runKept(code: string): ValidateFunction | undefined {
  try {
    return validatorFromCode(code);
  } catch {
    return undefined;
  }
}

function refuse(which: 'input' | 'output', name: string, errors: readonly ValidationError[]): never {
  const problems = toProblems(name, errors, which);
  const listed = problems.map((p) => p.message).join('; ');
  if (which === 'input') throw new AirlockError('invalid-input', `input to ${name} does not match its schema: ${listed}`, { problems });
  throw new AirlockError('invalid-output', `result of ${name} does not match its output schema: ${listed}`, { problems });
}

type ValidationError = Pick<ErrorObject, 'instancePath' | 'message'>;

function inlineLimit(schema: unknown): number {
  return usesCostly(schema) ? INLINE_BYTES.any : INLINE_BYTES.linear;
}

function usesCostly(schema: unknown): boolean {
  if (schema === null || typeof schema !== 'object') return false;
  if (Array.isArray(schema)) return schema.some(usesCostly);
  return Object.entries(schema).some(([k, v]) => (COSTLY.has(k) && v !== false) || usesCostly(v));
}

function toProblems(name: string, errors: readonly ValidationError[], what: 'input' | 'output'): Problem[] {
  return errors.map((e) => ({
    file: name,
    path: e.instancePath
      .split('/')
      .filter((s) => s !== '')
      .join('.'),
    message: `${e.instancePath === '' ? what : `${what}${e.instancePath.replaceAll('/', '.')}`} ${e.message ?? 'is invalid'}`,
  }));
}
