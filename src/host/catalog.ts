/**
 * The tools an agent can see: names as agents and models see them
 * (`plugin_tool`), their schemas, compiled validators, MCP annotations, and
 * the OpenAI / Anthropic tool formats.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { AirlockError, type Problem } from '../errors.ts';
import type { Grants } from '../grants/types.ts';
import type { Tool } from '../manifest/index.ts';
import { pluginAjv } from '../manifest/regexp.ts';

export interface ToolInfo {
  /** `plugin_tool`: valid for MCP, OpenAI and Anthropic (`^[a-zA-Z0-9_-]{1,64}$`). */
  name: string;
  plugin: string;
  tool: string;
  description: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  /** MCP tool annotations derived from the grants. */
  annotations: { readOnlyHint: boolean; openWorldHint: boolean };
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
    inputSchema: tool.input,
    annotations: annotationsFor(grants),
  };
  if (tool.output !== undefined) info.outputSchema = tool.output;
  return info;
}

/**
 * MCP hints from what the plugin may actually touch. readOnlyHint only when
 * nothing is writable: no read-write mount and no network (an outgoing request
 * can change the world just as a file write can, so a networked tool is never
 * advertised as read-only). openWorldHint exactly when network is granted.
 */
export function annotationsFor(grants: Grants): ToolInfo['annotations'] {
  const network = grants.network !== null;
  return {
    readOnlyHint: !network && !grants.filesystem.some((f) => f.access === 'read-write'),
    openWorldHint: network,
  };
}

export function toOpenAITool(t: ToolInfo): OpenAITool {
  return { type: 'function', function: { name: t.name, description: t.description, parameters: t.inputSchema } };
}

export function toAnthropicTool(t: ToolInfo): AnthropicTool {
  return { name: t.name, description: t.description, input_schema: t.inputSchema };
}

/**
 * Validators compiled once per loaded tool (the manifest schema already
 * checked they compile). Each tool gets its own Ajv: one shared instance
 * refuses a second schema with the same `$id`, which is exactly what loading
 * a plugin for two agents, or reloading it, would compile.
 */
export class ToolValidators {
  readonly input: ValidateFunction;
  readonly output: ValidateFunction | undefined;

  constructor(tool: Tool) {
    const ajv = pluginAjv({ allErrors: true });
    this.input = ajv.compile(tool.input);
    this.output = tool.output === undefined ? undefined : ajv.compile(tool.output);
  }

  /** Throws `invalid-input` naming each field that does not match, before anything reaches a sandbox. */
  checkInput(name: string, input: unknown): void {
    if (!this.input(input)) {
      const problems = toProblems(name, this.input.errors, 'input');
      throw new AirlockError('invalid-input', `input to ${name} does not match its schema: ${problems.map((p) => p.message).join('; ')}`, { problems });
    }
  }

  checkOutput(name: string, output: unknown): void {
    if (this.output !== undefined && !this.output(output)) {
      const problems = toProblems(name, this.output.errors, 'output');
      throw new AirlockError('invalid-output', `result of ${name} does not match its output schema: ${problems.map((p) => p.message).join('; ')}`, { problems });
    }
  }
}

function toProblems(name: string, errors: ErrorObject[] | null | undefined, what: 'input' | 'output'): Problem[] {
  return (errors ?? []).map((e) => ({
    file: name,
    path: e.instancePath.split('/').filter((s) => s !== '').join('.'),
    message: `${e.instancePath === '' ? what : `${what}${e.instancePath.replaceAll('/', '.')}`} ${e.message ?? 'is invalid'}`,
  }));
}
