/**
 * The host policy: what the host is willing to give any plugin. A YAML file
 * (`airlock inspect --policy policy.yaml`) or an object. The default policy
 * grants no network, no filesystem and no environment, and caps resources.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { AirlockError } from '../errors.ts';
import { hostPatternSchema, sizeSchema, durationSchema } from '../manifest/schema.ts';
import { DURATION_PATTERN } from '../manifest/units.ts';
import { remember } from '../manifest/check-cache.ts';
import { DEFAULT_INPUT, DEFAULT_ORIGIN, resolvePolicyPaths } from './policy-paths.ts';
import { lazyModule } from '../lazy.ts';

/** The YAML reader, loaded by the first policy file read (a policy in code or the default needs none). */
const sources = lazyModule<typeof import('../manifest/source.ts')>(import.meta.url, '../manifest/source');

const ENV_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*\*?$/;

/** How long a pooled plugin may sit without a call before its instances are stopped, or `never`. */
const idleSchema = z
  .string()
  .max(64)
  // A pattern, not a refinement, so the JSON Schema (`airlock schema --policy`) checks it too.
  .regex(new RegExp(`^(?:never|${DURATION_PATTERN.source.slice(1, -1)})$`), { error: 'expected a duration such as 30s or 10m, or never' });

export const policySchema = z
  .strictObject({
    apiVersion: z
      .literal('airlock/v1', { error: 'expected "airlock/v1"' })
      .optional()
      .meta({ examples: ['airlock/v1'] }),
    limits: z
      .strictObject({
        memory: sizeSchema.default('512Mi').meta({ description: 'Most memory any plugin may ask for.', examples: ['512Mi'] }),
        cpu: z
          .number()
          .positive()
          .max(64)
          .default(1)
          .meta({ description: 'Most CPU cores any plugin may ask for.', examples: [1] }),
        timeout: durationSchema.default('60s').meta({ description: 'Longest per-call timeout any plugin may ask for.', examples: ['60s'] }),
        concurrency: z
          .int()
          .min(1)
          .max(64)
          .default(4)
          .meta({ description: 'Most warm instances per plugin.', examples: [4] }),
        output: sizeSchema.default('4Mi').meta({ description: 'Largest result any plugin may return.', examples: ['4Mi'] }),
        logs: sizeSchema.default('1Mi').meta({ description: 'Most logs kept per call.', examples: ['1Mi'] }),
        queue: z
          .int()
          .min(0)
          .max(1_000_000)
          .default(256)
          .meta({ description: 'Calls that may wait per plugin before `overloaded`.', examples: [256] }),
        disk: sizeSchema.default('1Gi').meta({ description: 'Most bytes any plugin may store in its read-write grants.', examples: ['1Gi'] }),
        files: z
          .int()
          .min(1)
          .max(1_000_000)
          .default(10_000)
          .meta({
            description: 'Most files and folders any plugin may keep in its read-write grants (also bounds the walk that counts them at load).',
            examples: [10_000],
          }),
      })
      .default({ memory: '512Mi', cpu: 1, timeout: '60s', concurrency: 4, output: '4Mi', logs: '1Mi', queue: 256, disk: '1Gi', files: 10_000 })
      .meta({ description: 'Caps on what a manifest may ask for.' }),
    network: z
      .strictObject({
        allow: z.array(hostPatternSchema).default([]).meta({ description: 'Hosts plugins may be granted: host, host:port, *.domain.' }),
      })
      .default({ allow: [] })
      .meta({ examples: [{ allow: ['api.example.com:443'] }] }),
    filesystem: z
      .array(
        z.strictObject({
          path: z
            .string()
            .min(1)
            .meta({
              description: 'Host folder plugins may be granted (it and everything below it). Relative to the policy file.',
              examples: ['/srv/plugin-data'],
            }),
          access: z
            .enum(['read', 'read-write'])
            .default('read')
            .meta({ examples: ['read'] }),
        }),
      )
      .default([])
      .meta({ description: 'Host folders that may be mounted, and how.' }),
    env: z
      .array(z.string().regex(ENV_PATTERN, { error: 'expected a variable name, or a prefix ending in "*" such as "WEATHER_*"' }))
      .default([])
      .meta({ description: 'Environment variables that may pass to plugins (NAME or PREFIX_*).', examples: [['WEATHER_API_KEY']] }),
    unboundedWrites: z
      .array(z.enum(['docker', 'wasmtime'], { error: 'expected docker or wasmtime (the worker engine always enforces disk and files)' }))
      .default([])
      .meta({
        description:
          'Engines that may run read-write grants WITHOUT the disk/files quota (a bind mount or --dir has none). Absent: Docker refuses such plugins (permission-denied) and wasmtime leaves them to the worker engine.',
        examples: [['docker']],
      }),
    docker: z
      .strictObject({
        host: z
          .string()
          .regex(/^(unix|tcp|ssh):\/\/./, { error: 'expected unix:///path/docker.sock, tcp://host:port or ssh://user@host' })
          .meta({
            description: 'The Docker daemon plugins run on (default: DOCKER_HOST, else the local socket).',
            examples: ['tcp://docker.internal:2376', 'ssh://airlock@docker.internal'],
          }),
        tls: z
          .strictObject({
            ca: z.string().min(1).meta({ description: "PEM CA that signed the daemon's certificate. Relative to the policy file." }),
            cert: z.string().min(1).meta({ description: 'PEM client certificate the daemon trusts. Relative to the policy file.' }),
            key: z.string().min(1).meta({ description: 'PEM key of the client certificate. Relative to the policy file.' }),
          })
          .optional()
          .meta({ description: 'Mutual TLS for a tcp:// daemon (dockerd --tlsverify).' }),
        insecure: z.boolean().optional().meta({ description: 'Accept a tcp:// daemon without TLS (anyone reaching it owns it).' }),
        ssh: z
          .strictObject({
            key: z.string().min(1).optional().meta({ description: 'Private key file (default: the agent at SSH_AUTH_SOCK). Relative to the policy file.' }),
            knownHosts: z
              .string()
              .min(1)
              .optional()
              .meta({ description: "known_hosts file listing the daemon host's key (default: ~/.ssh/known_hosts). Relative to the policy file." }),
          })
          .optional()
          .meta({ description: 'For an ssh:// daemon.' }),
      })
      .optional()
      .meta({
        description: 'A remote Docker daemon: read-only grants are copied there at load, read-write grants refused.',
        examples: [{ host: 'tcp://docker.internal:2376', tls: { ca: 'certs/ca.pem', cert: 'certs/cert.pem', key: 'certs/key.pem' } }],
      }),
    kubernetes: z
      .strictObject({
        kubeconfig: z.string().min(1).meta({ description: 'A kubeconfig file naming the cluster and its credentials. Relative to the policy file.' }),
        context: z.string().min(1).max(253).optional().meta({ description: 'The kubeconfig context to use (default: its current context).' }),
        namespace: z
          .string()
          .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { error: 'expected a namespace name (lowercase letters, digits and -, at most 63)' })
          .default('airlock')
          .meta({ description: 'The namespace Pods and their objects are made in.', examples: ['airlock'] }),
        registry: z
          .string()
          .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, { error: 'expected host[:port] of a registry, e.g. registry.internal:5000' })
          .meta({ description: 'The registry plugin images are pushed to, which the cluster pulls from.', examples: ['registry.internal:5000'] }),
        networkPolicy: z.enum(['enforced', 'unenforced'], { error: 'expected enforced or unenforced' }).default('unenforced').meta({
          description:
            "Whether the cluster's network plugin enforces NetworkPolicy (Airlock cannot see it from the API). Unenforced: plugins are refused, since a Pod's network could not be denied.",
        }),
      })
      .optional()
      .meta({
        description: 'A Kubernetes cluster for the kubernetes engine: plugins run as Pods there, images pushed to the registry named here.',
        examples: [{ kubeconfig: 'cluster/admin.kubeconfig', namespace: 'airlock', registry: 'registry.internal:5000', networkPolicy: 'enforced' }],
      }),
    idle: z
      .union([idleSchema, z.record(z.string().min(1).max(256), idleSchema)], {
        error: 'expected a duration such as 10m, never, or a map of plugin names ("*": every other) to either',
      })
      .optional()
      .meta({
        description:
          'After this long without a call, a plugin\'s warm instances are stopped (what they kept in memory is lost); the next call starts one again. One value for every plugin, or per plugin name with "*" for the rest. Absent or never: instances stay until unloaded. The worker and Docker engines honour it.',
        examples: ['10m', { '*': '10m', notes: 'never' }],
      }),
    isolation: z
      .enum(['pooled', 'per-call'])
      .optional()
      .meta({ description: 'per-call forces a fresh instance for every call of every plugin.', examples: ['per-call'] }),
    trust: z
      .strictObject({
        requireSignatures: z
          .boolean()
          .default(false)
          .meta({ description: 'Refuse plugins without a signature (airlock.minisig) by a signer listed here (signature-missing).' }),
        signers: z
          .array(
            z.strictObject({
              key: z
                .string()
                .regex(/^RW[A-Za-z0-9+/]{54}$/, { error: "expected a minisign public key: the `RW…` line of `airlock keygen`'s .pub file" })
                .meta({ description: 'minisign public key (base64 line).', examples: ['RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3'] }),
              plugins: z
                .array(z.string().min(1).max(256))
                .min(1)
                .default(['*'])
                .meta({ description: 'Plugin names (globs) this key may sign.', examples: [['acme-*']] }),
            }),
          )
          .default([])
          .meta({ description: 'Keys whose signatures are trusted, and for which plugin names.' }),
      })
      .optional()
      .meta({ description: 'Which keys may sign which plugins; checked at load, before any build (see README, Trust).' }),
    revoked: z
      .record(
        z.string().min(1),
        z.strictObject({
          network: z.array(hostPatternSchema).optional().meta({ description: 'Allow-list entries taken away (and those they cover).' }),
          filesystem: z.array(z.string().min(1)).optional().meta({ description: 'Folders taken away, and everything below. Relative to this file.' }),
          env: z
            .array(z.string().regex(ENV_PATTERN, { error: 'expected a variable name, or a prefix ending in "*"' }))
            .optional()
            .meta({ description: 'Environment variables taken away.' }),
        }),
      )
      .default({})
      .meta({
        description: 'Per plugin name, permissions taken away at run time (`host.revoke`; `host.grant` gives them back). Written by Airlock.',
        examples: [{ weather: { network: ['api.weather.example'] } }],
      }),
  })
  .meta({ title: 'Airlock host policy' });

export type PolicyInput = z.input<typeof policySchema>;

/** A checked policy with its relative paths resolved. */
export type Policy = z.infer<typeof policySchema> & {
  /** Where relative filesystem paths were resolved from. */
  baseDir: string;
  /** The file it came from, for messages ("the host policy" when given as an object). */
  origin: string;
};

/** The default policy, parsed (and remembered for the next process: ./default-policy.ts). */
export function defaultPolicy(): Policy {
  const parsed = policySchema.parse(JSON.parse(DEFAULT_INPUT));
  remember('policy', DEFAULT_INPUT, parsed);
  return resolvePolicyPaths({ ...parsed, baseDir: process.cwd(), origin: DEFAULT_ORIGIN });
}

/** A policy given in code; relative filesystem paths resolve against `baseDir`. */
export function policyFromObject(input: PolicyInput, baseDir = process.cwd(), origin = 'the host policy'): Policy {
  const parsed = policySchema.safeParse(input);
  if (!parsed.success) {
    throw new AirlockError('invalid-policy', `${origin} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {
      cause: parsed.error,
      problems: parsed.error.issues.map((i) => ({ file: origin, path: i.path.join('.'), message: i.message })),
    });
  }
  return resolvePolicyPaths({ ...parsed.data, baseDir, origin });
}

/** Reads and checks a policy YAML file; throws `invalid-policy` listing every problem. */
export function loadPolicy(file: string): Policy {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AirlockError('invalid-policy', `cannot read host policy ${path}`, {
      cause: err,
      problems: [{ file: path, path: '', message: 'cannot read the file', hint: 'check the --policy path' }],
    });
  }
  const checked = sources().checkYaml(path, text, policySchema, 'the host policy');
  if (!checked.ok) {
    throw new AirlockError('invalid-policy', `${path}: ${checked.problems.length} problem(s) in the host policy`, { problems: checked.problems });
  }
  return resolvePolicyPaths({ ...checked.value, baseDir: dirname(path), origin: path });
}
