/**
 * The flags several commands share (--policy, --lock, --engine, --timeout, --json, --audit),
 * declared, parsed and checked here once, and the one way a command turns
 * them into a PluginHost (hostFromFlags) or a policy (policyFromFlags).
 */
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { ENGINE_NAMES } from '../engines/types.ts';
import { defaultPolicy } from '../grants/default-policy.ts';
import type { Policy } from '../grants/index.ts';
import { lazyModule } from '../lazy.ts';
import type { EnginePreference, EngineProvider, HostOptions, PluginHost } from '../host/index.ts';
import { UsageError, type CliIO } from './io.ts';

/** The host, loaded when a command makes one (after `call` has started the worker its load adopts: ./main.ts prepare). */
const hosts = lazyModule<typeof import('../host/index.ts')>(import.meta.url, '../host/index');

/** The policy schema (zod, yaml), loaded only for a --policy file. */
const policies = lazyModule<typeof import('../grants/policy.ts')>(import.meta.url, '../grants/policy');

const SHARED = {
  policy: { type: 'string' },
  lock: { type: 'string' },
  engine: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  audit: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

type Shared = typeof SHARED;

/** The engine choices --engine takes, for help texts. */
export const ENGINE_CHOICES = `auto (default), ${ENGINE_NAMES.join(', ')}`;

/**
 * Parses a command line: the `shared` flags it takes (checked here: a bad
 * --engine or --timeout is a usage error) and its own `extra` ones, with
 * positionals allowed.
 */
export function parseFlags<K extends keyof Shared, X extends ParseArgsOptionsConfig = Record<never, never>>(argv: string[], shared: readonly K[], extra?: X) {
  const options = { ...Object.fromEntries(shared.map((k) => [k, SHARED[k]])), ...extra } as Pick<Shared, K> & X;
  const parsed = parseArgs({ args: argv, allowPositionals: true, options });
  const values = parsed.values as { engine?: string; timeout?: string };
  if (values.engine !== undefined) engineFromFlags(values);
  if (values.timeout !== undefined) timeoutFromFlags(values);
  return parsed;
}

export function engineFromFlags(values: { engine?: string | undefined }): EnginePreference {
  const engine = values.engine ?? 'auto';
  if (engine !== 'auto' && !(ENGINE_NAMES as readonly string[]).includes(engine))
    throw new UsageError(`--engine must be auto or one of ${ENGINE_NAMES.join(', ')}`);
  return engine as EnginePreference;
}

export function timeoutFromFlags(values: { timeout?: string | undefined }): number | undefined {
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) throw new UsageError('--timeout takes a positive number of milliseconds');
  return timeout;
}

/** The policy --policy names (relative to where the command runs), or the default policy. */
export function policyFromFlags(values: { policy?: string | undefined }, io: CliIO): Policy {
  return values.policy === undefined ? defaultPolicy() : policies().loadPolicy(resolve(io.cwd, values.policy));
}

/** --audit f: the audit log, appended to f (`-`: stderr). */
export function auditFromFlags(values: { audit?: string | undefined }, io: CliIO): HostOptions['audit'] {
  if (values.audit === undefined) return undefined;
  if (values.audit === '') throw new UsageError('--audit takes a file (or - for stderr)');
  return values.audit === '-' ? { stderr: true } : { file: resolve(io.cwd, values.audit) };
}

/** The host a command opens plugins in: --policy (or `policy`, already read from it), --lock, --engine, --audit, and build progress on a terminal. */
export function hostFromFlags(
  values: { policy?: string | undefined; lock?: string | undefined; engine?: string | undefined; audit?: string | undefined },
  io: CliIO,
  observers: HostOptions['observers'] = [],
  policy: Policy = policyFromFlags(values, io),
): PluginHost {
  const audit = auditFromFlags(values, io);
  return new (hosts().PluginHost)({
    observers,
    policy,
    engine: engineFromFlags(values),
    provider: engineProvider(io),
    ...(values.lock === undefined ? {} : { lock: resolve(io.cwd, values.lock) }),
    ...(audit === undefined ? {} : { audit }),
  });
}

/**
 * The engines for a command: on a terminal, with build progress on stderr (a
 * first Docker image build takes a while); otherwise the quiet default.
 */
function engineProvider(io: CliIO): EngineProvider | undefined {
  if (!io.isTTY) return undefined;
  // Imported on first use: commands that never open a plugin should not load the engines.
  let inner: Promise<EngineProvider> | undefined;
  const engines = (): Promise<EngineProvider> =>
    (inner ??= import('../provider/index.ts').then((m) =>
      m.defaultEngineProvider({
        onEvent: (event) => {
          if (event.type === 'build') io.stderr(`airlock: ${event.plugin}: ${event.message}\n`);
          if (event.type === 'egress' && event.decision.decision !== 'allowed')
            io.stderr(`airlock: ${event.plugin}: network ${event.decision.decision}: ${event.decision.reason}\n`);
        },
      }),
    ));
  return {
    open: async (plugin, grants, preference, options) => (await engines()).open(plugin, grants, preference, options),
    warm: (grants, preference) => void engines().then((p) => p.warm?.(grants, preference)),
    prepare: (preference) => void engines().then((p) => p.prepare?.(preference)),
    close: async () => {
      if (inner !== undefined) await (await inner).close();
    },
  };
}
