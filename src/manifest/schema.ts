/**
 * plugin.yaml v1: the one definition. Types come from `z.infer`, the JSON
 * Schema that editors use comes from `z.toJSONSchema` (see json-schema.ts),
 * and every error hint comes from the `examples` below. Unknown fields are
 * rejected everywhere (strict objects). The schema is pure (no transforms):
 * what it accepts is exactly what the YAML says, and turning sizes and
 * durations into numbers happens when grants are computed.
 */
import { z } from 'zod';
import { parseHostPattern } from './hosts.ts';
import { MAX_UNKNOWN_KEYWORDS, unknownKeywords } from './keywords.ts';
import { MAX_QUALIFIED_TOOL_NAME } from './names.ts';
import { patternPath, pluginAjv, UnsupportedPatternError } from './regexp.ts';
import { trimSlashes } from './trim.ts';
import { DURATION_PATTERN, SIZE_PATTERN } from './units.ts';

export const API_VERSION = 'airlock/v1';

/** Lowercase DNS label: it names images, containers, MCP tools and cache folders. */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** semver.org's own regular expression. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
/**
 * Tools are functions in the plugin's language (Python and JavaScript
 * identifiers) and become `plugin_tool` names for MCP, OpenAI and Anthropic,
 * which allow `^[a-zA-Z0-9_-]{1,64}$`.
 */
const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;
/**
 * Absolute POSIX guest path without `.`/`..` segments. Each segment ends at a
 * mandatory "/", so a text matches one way only: `(?:[…]+\/?)*` let a run of
 * letters split into segments in 2^n ways (a 30-character mount took 20 s).
 */
const MOUNT = /^\/(?:[A-Za-z0-9._-]+\/)*[A-Za-z0-9._-]*$/;

/** Relative path inside the plugin folder, plain characters only (see build.dependencies). */
const DEPENDENCY_PATH = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

/**
 * Build args a plugin may not set: they are environment variables of the install steps, and these change
 * what those steps run (PATH, NODE_OPTIONS=--import, npm_config_ignore_scripts, PIP_NO_BINARY, LD_PRELOAD,
 * ...). The registry settings stay allowed: where packages come from is the plugin's choice.
 */
const RESERVED_BUILD_ARG = /^(PATH|HOME|ENV|BASH_ENV|SHELL|IFS|LD_.*|NODE_.*|NPM_.*|PYTHON.*|PIP_.*|GIT_.*|SSL_.*|CURL_.*|(HTTPS?|FTP|NO|ALL)_PROXY)$/i;
const REGISTRY_BUILD_ARGS: ReadonlySet<string> = new Set([
  'npm_config_registry',
  'NPM_CONFIG_REGISTRY',
  'PIP_INDEX_URL',
  'PIP_EXTRA_INDEX_URL',
  'PIP_TRUSTED_HOST',
  'PIP_NO_CACHE_DIR',
  'PIP_DEFAULT_TIMEOUT',
]);

export { MAX_QUALIFIED_TOOL_NAME };

/** Characters in a tool's or the plugin's description. */
export const MAX_DESCRIPTION = 2048;

/** Characters in a tool's display title: a name for people, not a second description. */
export const MAX_TITLE = 128;

/**
 * Caps on everything a manifest lists or nests (README, "plugin.yaml"): generous for real plugins, fixed so
 * that validating a hostile manifest stays cheap. The tool count is checked before any tool schema is
 * compiled, and a schema's size and depth before it is compiled.
 */
export const MANIFEST_LIMITS = {
  tools: 256,
  /** JSON text of one tool's input or output schema. */
  schemaBytes: 64 * 1024,
  /** Objects and lists nested in one tool schema. */
  schemaDepth: 32,
  /** Descriptions reach the model: MAX_DESCRIPTION. */
  toolDescription: MAX_DESCRIPTION,
  description: MAX_DESCRIPTION,
  networkAllow: 256,
  filesystem: 64,
  env: 256,
  buildArgs: 64,
  /** Any other text field: paths, names, versions, build arg values. */
  text: 4096,
  /** Names (env variables, build args). */
  name: 128,
} as const;
const L = MANIFEST_LIMITS;

/** A text cap that stops the field's later checks (patterns, parsers) from running on an oversized value. */
const maxText = (n: number, what: string) =>
  [n, { error: (iss: { input?: unknown }) => `${what} is ${String(iss.input).length} characters; the limit is ${n}`, abort: true }] as const;
/** A list cap, naming how long the list is and how to shorten it. */
const maxItems = (n: number, what: string, fix: string) =>
  [n, { error: (iss: { input?: unknown }) => `lists ${(iss.input as unknown[]).length} ${what}; the limit is ${n} (${fix})` }] as const;

let tools: ReturnType<typeof pluginAjv> | undefined;
/** The Ajv that checks tool schemas, made by the first one checked: the policy schema imports this module too, and needs none. */
const toolAjv = (): ReturnType<typeof pluginAjv> => (tools ??= pluginAjv({ allErrors: true, validateSchema: true }));

/** Nesting depth of a JSON value, counted without recursion and given up past `limit`. */
function depthOver(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > limit) return true;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return false;
}

/** Why a tool schema is too big to compile (depth, then size), or undefined. */
function schemaTooBig(schema: unknown): { message: string; hint: string } | undefined {
  if (depthOver(schema, L.schemaDepth)) return { message: `nests deeper than ${L.schemaDepth} levels`, hint: 'flatten it, or use `$ref` to a definition' };
  const bytes = JSON.stringify(schema).length;
  if (bytes > L.schemaBytes)
    return { message: `is ${bytes} characters as JSON; the limit is ${L.schemaBytes}`, hint: 'describe the fields the tool takes, not data' };
  return undefined;
}

/**
 * A JSON Schema (draft-07) describing an object. Here only what is cheap: the type, the depth and the size;
 * the meta-schema check and compilation (ajv) happen once per tool in `toolsSchema`, only when the tool
 * count is within its cap.
 */
const jsonSchemaObject = (what: string) =>
  z.record(z.string(), z.unknown()).superRefine((schema, ctx) => {
    if (schema.type !== 'object') {
      ctx.addIssue({
        code: 'custom',
        message: `${what} must be a JSON Schema with "type: object" (got ${schema.type === undefined ? 'no type' : `type: ${JSON.stringify(schema.type)}`})`,
        path: ['type'],
        params: { hint: `tool ${what} is always an object; put the fields under \`properties:\`` },
      });
      return;
    }
    const big = schemaTooBig(schema);
    if (big !== undefined) ctx.addIssue({ code: 'custom', message: `${what} schema ${big.message}`, params: { hint: big.hint } });
  });

/** `atKey`: the problem is the key itself (an unknown keyword), so it is located at the key, not its value. */
type SchemaIssue = { message: string; path: Array<string | number>; hint?: string; atKey?: boolean };

/** The meta-schema check and a trial compile of one tool schema (ajv): its problems, paths relative to it. */
function compileSchema(schema: Record<string, unknown>, what: string): SchemaIssue[] {
  const ajv = toolAjv();
  if (!ajv.validateSchema(schema)) {
    // The meta-schema's anyOf yields several errors for one mistake: keep the first per place.
    const seen = new Set<string>();
    const issues: SchemaIssue[] = [];
    for (const e of ajv.errors ?? []) {
      if (seen.has(e.instancePath)) continue;
      seen.add(e.instancePath);
      const path = e.instancePath.split('/').filter((s) => s !== '');
      issues.push({ message: `${what} is not a valid JSON Schema: ${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`, path });
    }
    return issues;
  }
  // Ajv's strict mode, at each keyword's place: a misspelt keyword would otherwise be ignored (the input unchecked).
  const unknown: SchemaIssue[] = unknownKeywords(schema, ajv.RULES.keywords).map((u) => ({
    message: `${what} schema: unknown JSON Schema keyword "${u.keyword}"`,
    path: u.path,
    hint: `${u.guess === undefined ? 'remove it' : `did you mean "${u.guess}"?`}; a keyword the validator does not know would be ignored, and vendor keywords are written x-…`,
    atKey: true,
  }));
  try {
    ajv.compile(schema);
    return unknown;
  } catch (err) {
    const message = `${what} cannot be compiled: ${err instanceof Error ? err.message : String(err)}`;
    return [
      err instanceof UnsupportedPatternError
        ? { message, path: patternPath(schema, err.pattern), hint: 'write the pattern without backreferences (\\1) or lookaround ((?=, (?!, (?<=, (?<!)' }
        : { message, path: [] },
      ...unknown,
    ];
  } finally {
    // Forget it again: a schema with an `$id` would otherwise make every later load of the same plugin (reload, a second agent) fail with "already exists".
    ajv.removeSchema(schema);
  }
}

export const sizeSchema = z
  .union([
    z
      .string()
      .max(...maxText(64, 'a size'))
      .regex(SIZE_PATTERN, { error: 'expected a size such as 128Mi, 1Gi, 512K or a number of bytes' }),
    z.int().positive(),
  ])
  .meta({ examples: ['128Mi', '1Gi'] });

export const durationSchema = z
  .string()
  .max(...maxText(64, 'a duration'))
  .regex(DURATION_PATTERN, { error: 'expected a duration such as 500ms, 10s or 2m' })
  .meta({ examples: ['500ms', '10s'] });

export const hostPatternSchema = z
  .string()
  // A DNS name is at most 253 characters; with `*.` and `:port` this is plenty.
  .max(...maxText(300, 'a host pattern'))
  .superRefine((text, ctx) => {
    const parsed = parseHostPattern(text);
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: `not a host pattern: ${parsed}` });
  })
  .meta({ examples: ['api.example.com', 'api.example.com:443', '*.example.com'] });

/**
 * What an author may say about a tool beyond what its grants imply (MCP tool annotations). Claims can only
 * tighten: the host derives readOnlyHint and openWorldHint from the grants, and an author may take read-only
 * away (`readOnly: false`, `destructive: true`) but never grant it; `destructive: false` is refused beside a
 * read-write mount (see the manifest's refinement) because the host cannot tell an additive write from a deletion.
 */
export const toolAnnotationsSchema = z
  .strictObject({
    title: z
      .string()
      .min(1, { error: 'a title is a short name for people; remove it to use the tool name' })
      // Shown beside every tool in a client's list: capped like descriptions, and shorter.
      .max(MAX_TITLE, { error: `a tool title is at most ${MAX_TITLE} characters; put the rest in the description` })
      .meta({ description: 'Display name for people (MCP `title`).', examples: ['Weather forecast'] }),
    idempotent: z.boolean().meta({ description: 'Calling again with the same input has no further effect (MCP idempotentHint).', examples: [true] }),
    destructive: z.boolean().meta({
      description:
        'true: the tool may delete or overwrite (also takes away readOnlyHint). false: only additive changes; refused with a read-write filesystem grant. Absent: MCP default (destructive).',
      examples: [false],
    }),
    readOnly: z.literal(false, { error: 'readOnly can only be set to false: whether a tool is read-only follows from its grants' }).meta({
      description: 'false: the tool changes state (e.g. kept in a pooled instance) though it can write no file and reach no network.',
      examples: [false],
    }),
  })
  .partial()
  .meta({ description: 'Hints for MCP clients; they can only narrow what the grants imply.' });

export const toolSchema = z
  .strictObject({
    name: z
      .string()
      .regex(TOOL_NAME, { error: 'a tool name is a letter or "_" then letters, digits or "_", at most 48 characters' })
      .meta({ description: 'Tool name: also the function the entry module exports.', examples: ['forecast'] }),
    description: z
      .string()
      .min(1, { error: 'describe what the tool does: agents choose tools by this text' })
      // The model reads every description of every tool it is offered: a cap bounds how much text one plugin can put there.
      .max(MAX_DESCRIPTION, { error: `a tool description is at most ${MAX_DESCRIPTION} characters; agents need a sentence or two, not a manual` })
      .meta({ description: 'What the tool does, for the agent choosing it.', examples: ['Weather forecast for a city'] }),
    input: jsonSchemaObject('input').meta({
      description: 'JSON Schema of the tool input (an object).',
      examples: [{ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }],
    }),
    output: jsonSchemaObject('output').optional().meta({ description: 'JSON Schema of the result (optional; checked on every call when given).' }),
    annotations: toolAnnotationsSchema.optional(),
  })
  .meta({ description: 'One tool the plugin offers.' });

export const filesystemRequestSchema = z
  .strictObject({
    path: z
      .string()
      .min(1)
      .max(...maxText(L.text, 'a path'))
      .meta({ description: 'Host path; a relative path resolves against the plugin folder.', examples: ['./data'] }),
    mount: z
      .string()
      .regex(MOUNT, { error: 'expected an absolute path inside the sandbox, like /data (no "." or ".." segments)' })
      .refine((m) => !m.split('/').some((seg) => seg === '.' || seg === '..'), { error: 'a mount path may not contain "." or ".." segments' })
      .refine((m) => m !== '/', { error: 'cannot mount over the sandbox root "/"; pick a folder such as /data' })
      .meta({ description: 'Where the plugin sees it (absolute path inside the sandbox).', examples: ['/data'] }),
    access: z
      .enum(['read', 'read-write'])
      .default('read')
      .meta({ description: 'read (the default) or read-write.', examples: ['read'] }),
  })
  .meta({ description: 'One host path the plugin asks for.' });

export const permissionsSchema = z
  .strictObject({
    network: z
      .strictObject({
        allow: z
          .array(hostPatternSchema)
          .min(1, { error: 'list at least one host, or remove `network` to ask for none' })
          .max(...maxItems(L.networkAllow, 'hosts', 'use a wildcard such as *.example.com'))
          .meta({ description: 'Hosts the plugin may connect to: host, host:port or *.domain.' }),
      })
      .optional()
      .meta({ description: 'Outgoing network. Absent: none at all.', examples: [{ allow: ['api.example.com:443'] }] }),
    filesystem: z
      .array(filesystemRequestSchema)
      .max(...maxItems(L.filesystem, 'paths', 'grant a common parent folder'))
      .default([])
      .meta({ description: 'Host paths the plugin asks for.', examples: [[{ path: './data', mount: '/data', access: 'read' }]] }),
    env: z
      .array(
        z
          .string()
          .max(...maxText(L.name, 'an environment variable name'))
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'an environment variable name is letters, digits and "_"' }),
      )
      .max(...maxItems(L.env, 'variables', 'pass settings in one variable, or in a file'))
      .default([])
      .meta({ description: 'Names of host environment variables the plugin may read.', examples: [['WEATHER_API_KEY']] }),
  })
  .meta({ description: 'What the plugin asks for. The host policy decides; nothing is granted silently.' });

export const resourcesSchema = z
  .strictObject({
    memory: sizeSchema.default('128Mi').meta({ description: 'Memory cap (wasm linear memory, container memory).', examples: ['128Mi'] }),
    cpu: z
      .number()
      .positive({ error: 'expected a positive number of cores, like 0.5' })
      .max(64)
      .default(1)
      .meta({ description: 'CPU share in cores.', examples: [0.5] }),
    timeout: durationSchema.default('10s').meta({ description: 'Wall-clock limit per call.', examples: ['10s'] }),
    concurrency: z
      .int({ error: 'expected a whole number of calls, like 2' })
      .min(1)
      .max(64)
      .default(1)
      .meta({ description: 'Calls served at once (warm instances).', examples: [2] }),
    output: sizeSchema.default('1Mi').meta({ description: 'Largest result one call may return.', examples: ['1Mi'] }),
    logs: sizeSchema.default('64Ki').meta({ description: 'Largest stdout+stderr kept per call (the rest is cut).', examples: ['64Ki'] }),
    disk: sizeSchema.default('64Mi').meta({
      description: 'Most bytes stored in the read-write grants, counted together like one volume (existing files included); a write past it fails with ENOSPC.',
      examples: ['64Mi'],
    }),
    files: z
      .int({ error: 'expected a whole number of files and folders, like 1000' })
      .min(1)
      .max(1_000_000)
      .default(1000)
      .meta({
        description: 'Most files and folders in the read-write grants (existing ones included); creating one more fails with EDQUOT.',
        examples: [1000],
      }),
  })
  .meta({ description: 'Limits. Safe defaults when absent; the host policy caps each.' });

export const buildSchema = z
  .strictObject({
    dependencies: z
      .string()
      .min(1)
      .max(...maxText(L.text, 'a dependency path'))
      // The path is written into the generated Dockerfile (COPY, RUN cd): a plain relative path only, so a
      // file name holding a newline or a space cannot add instructions.
      .regex(DEPENDENCY_PATH, { error: 'expected a relative path inside the plugin folder made of letters, digits, ".", "_", "-" and "/"' })
      .refine((d) => !d.split('/').some((seg) => seg === '.' || seg === '..'), { error: 'a dependency path may not contain "." or ".." segments' })
      .optional()
      .meta({
        description: 'Dependency file to install from instead of the default (package.json / requirements.txt / pyproject.toml).',
        examples: ['requirements-prod.txt'],
      }),
    args: z
      .record(
        z
          .string()
          .max(...maxText(L.name, 'a build arg name'))
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'a build arg name is letters, digits and "_"' }),
        z.string().max(...maxText(L.text, 'a build arg value')),
      )
      .refine((args) => Object.keys(args).length <= L.buildArgs, {
        error: `at most ${L.buildArgs} build args`,
        params: { hint: 'set only the registry settings the install needs' },
      })
      .superRefine((args, ctx) => {
        for (const name of Object.keys(args)) {
          if (!RESERVED_BUILD_ARG.test(name) || REGISTRY_BUILD_ARGS.has(name)) continue;
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: `build arg ${name} would change what the dependency install runs, so a plugin may not set it`,
            params: { hint: `remove it; of npm's and pip's settings only ${[...REGISTRY_BUILD_ARGS].join(', ')} are allowed` },
          });
        }
      })
      .default({})
      .meta({ description: 'Extra build arguments.', examples: [{ PIP_INDEX_URL: 'https://pypi.example/simple' }] }),
  })
  .meta({ description: 'How to build the plugin (optional).' });

export const RUNTIMES = ['wasm', 'node', 'python'] as const;
export type Runtime = (typeof RUNTIMES)[number];

export const manifestSchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION, { error: `expected "${API_VERSION}"` }).meta({ description: 'Manifest format version.', examples: [API_VERSION] }),
    name: z
      .string()
      .regex(DNS_LABEL, { error: 'expected a lowercase DNS label: a-z, 0-9 and "-", at most 63 characters, like "weather"' })
      .meta({ description: 'Plugin name (lowercase DNS label).', examples: ['weather'] }),
    version: z
      .string()
      .max(...maxText(256, 'a version'))
      .regex(SEMVER, { error: 'expected a semantic version such as 1.2.0' })
      .meta({ description: 'Plugin version (semver).', examples: ['1.2.0'] }),
    description: z
      .string()
      .max(MAX_DESCRIPTION, { error: `a plugin description is at most ${MAX_DESCRIPTION} characters` })
      .default('')
      .meta({ description: 'What the plugin is for.', examples: ['Weather tools'] }),
    runtime: z
      .enum(RUNTIMES, { error: 'expected one of: wasm, node, python' })
      .optional()
      .meta({ description: 'wasm, node or python. Absent: detected from the entry and the files beside it.', examples: ['wasm'] }),
    entry: z
      .string()
      .min(1)
      .max(...maxText(L.text, 'a path'))
      .meta({
        description: 'Entry file, relative to the plugin folder: a component (.wasm) or the source it is built from, or the Node/Python module.',
        examples: ['plugin.wasm'],
      }),
    wasm: z
      .string()
      .min(1)
      .max(...maxText(L.text, 'a path'))
      .optional()
      .meta({ description: 'For node/python plugins: a WebAssembly component of the same tools, tried first.', examples: ['plugin.wasm'] }),
    isolation: z
      .enum(['pooled', 'per-call'])
      .default('pooled')
      .meta({ description: 'pooled (warm instances reused) or per-call (a fresh instance for every call).', examples: ['pooled'] }),
    tools: z
      .array(toolSchema)
      .min(1, { error: 'a plugin offers at least one tool' })
      .max(...maxItems(L.tools, 'tools', 'split the plugin in several'))
      // ajv runs only within the cap (`when`): an 11,000-tool manifest is refused by its count, not compiled.
      .superRefine(
        (tools, ctx) => {
          // Each distinct schema compiled once: tools sharing one through a YAML alias (`input: *big`) cost one
          // compile, so the work stays bounded by the manifest's bytes; its problems are reported at every use.
          const compiled = new Map<string, SchemaIssue[]>();
          // Unknown keywords are listed up to a bound for the whole manifest, then counted (see keywords.ts).
          let unknown = 0;
          tools.forEach((tool, i) => {
            for (const what of ['input', 'output'] as const) {
              const schema = (tool as Record<string, unknown> | undefined)?.[what];
              if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) continue;
              const s = schema as Record<string, unknown>;
              if (s.type !== 'object' || schemaTooBig(s) !== undefined) continue;
              const key = `${what}\0${JSON.stringify(s)}`;
              let issues = compiled.get(key);
              if (issues === undefined) compiled.set(key, (issues = compileSchema(s, what)));
              for (const issue of issues) {
                if (issue.atKey === true && ++unknown > MAX_UNKNOWN_KEYWORDS) continue;
                ctx.addIssue({
                  code: 'custom',
                  message: issue.message,
                  path: [i, what, ...issue.path],
                  ...(issue.hint === undefined ? {} : { params: { hint: issue.hint, ...(issue.atKey === true ? { atKey: true } : {}) } }),
                });
              }
            }
          });
          if (unknown > MAX_UNKNOWN_KEYWORDS)
            ctx.addIssue({
              code: 'custom',
              message: `${unknown - MAX_UNKNOWN_KEYWORDS} more unknown JSON Schema keywords in the tool schemas after the first ${MAX_UNKNOWN_KEYWORDS}`,
              params: { hint: 'fix the ones listed first; vendor keywords are written x-…' },
            });
        },
        { when: (payload) => Array.isArray(payload.value) && payload.value.length <= L.tools },
      )
      .meta({ description: 'The tools the plugin offers.' }),
    permissions: permissionsSchema.default({ filesystem: [], env: [] }),
    resources: resourcesSchema.default({ memory: '128Mi', cpu: 1, timeout: '10s', concurrency: 1, output: '1Mi', logs: '64Ki', disk: '64Mi', files: 1000 }),
    build: buildSchema.optional(),
  })
  .superRefine((m, ctx) => {
    const seen = new Map<string, number>();
    m.tools.forEach((tool, i) => {
      const first = seen.get(tool.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['tools', i, 'name'],
          message: `duplicate tool name "${tool.name}" (also tools[${first}])`,
          params: { hint: 'give each tool its own name' },
        });
      } else {
        seen.set(tool.name, i);
      }
      const qualified = `${m.name}_${tool.name}`;
      if (qualified.length > MAX_QUALIFIED_TOOL_NAME) {
        ctx.addIssue({
          code: 'custom',
          path: ['tools', i, 'name'],
          message: `"${qualified}" (plugin_tool, as agents see it) is ${qualified.length} characters; the limit is ${MAX_QUALIFIED_TOOL_NAME}`,
          params: { hint: `shorten the tool name to at most ${MAX_QUALIFIED_TOOL_NAME - m.name.length - 1} characters, or the plugin name` },
        });
      }
    });
    const readWrite = m.permissions.filesystem.findIndex((fs) => fs.access === 'read-write');
    if (readWrite >= 0) {
      m.tools.forEach((tool, i) => {
        if (tool.annotations?.destructive !== false) return;
        ctx.addIssue({
          code: 'custom',
          path: ['tools', i, 'annotations', 'destructive'],
          message: `destructive: false cannot be claimed: permissions.filesystem[${readWrite}] is read-write, so the tool can overwrite or delete files there`,
          params: { hint: 'remove `destructive: false`, or make the mount `access: read`' },
        });
      });
    }
    const mounts = new Map<string, number>();
    m.permissions.filesystem.forEach((fs, i) => {
      const key = trimSlashes(fs.mount);
      const first = mounts.get(key);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['permissions', 'filesystem', i, 'mount'],
          message: `mount "${fs.mount}" is already used by permissions.filesystem[${first}]`,
          params: { hint: 'give each path its own mount' },
        });
      } else {
        mounts.set(key, i);
      }
    });
    if (m.wasm !== undefined && m.runtime === 'wasm') {
      ctx.addIssue({
        code: 'custom',
        path: ['wasm'],
        message: '`wasm` is for node/python plugins that also ship a component; a wasm plugin names its component in `entry`',
        params: { hint: 'remove `wasm`, or set `runtime` to node or python' },
      });
    }
  })
  .meta({
    title: 'Airlock plugin manifest (plugin.yaml)',
    description: 'A plugin for the Airlock sandboxed runtime. See the README section "plugin.yaml".',
  });

/** A manifest as written (input side: defaults not yet applied). */
export type ManifestInput = z.input<typeof manifestSchema>;
/** A validated manifest with defaults applied. */
export type Manifest = z.infer<typeof manifestSchema>;
export type Tool = z.infer<typeof toolSchema>;
export type ToolAnnotations = z.infer<typeof toolAnnotationsSchema>;
export type FilesystemRequest = z.infer<typeof filesystemRequestSchema>;
