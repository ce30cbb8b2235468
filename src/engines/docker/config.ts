/**
 * Where the Docker engine's settings come from: constructor options first,
 * then the environment, then defaults. Base images default to the official
 * ones; machines without a reachable registry point them at local images
 * (.ci/setup-docker.sh builds some). An extra CA bundle is injected into image
 * builds, for hosts whose TLS to the registries is intercepted (corporate
 * proxies). The package registries the host uses are passed to builds as
 * build args, without credentials (build args are visible in image history).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AirlockError } from '../../errors.ts';

export const DEFAULT_IMAGES = { node: 'node:24-bookworm-slim', python: 'python:3.11-slim-bookworm' } as const;

export interface DockerBuildConfig {
  /** Base image per runtime. */
  images: { node: string; python: string };
  /** PEM bundle trusted during builds, in addition to the image's own (path on the host). */
  extraCa: string | undefined;
  /** Build args naming the package registries (npm_config_registry, PIP_INDEX_URL, ...). */
  registryArgs: Record<string, string>;
  /** Bounds on an image build (its RUN steps): memory, CPU and wall time. */
  buildLimits: BuildLimits;
  /**
   * `registries`: the build's steps reach only the package registries, through an egress proxy (default).
   * `open`: the daemon's default bridge, for registries that send clients to further hosts (mirrors that
   * redirect to object storage, say).
   */
  buildNetwork: 'registries' | 'open';
}

export interface BuildLimits {
  /** Memory of each build step's container, bytes (swap included). */
  memoryBytes: number;
  /** CPUs each build step may use. */
  cpus: number;
  /** The whole build, pulls excluded; past it the build is cancelled and fails with build-failed. */
  timeoutMs: number;
}

export const DEFAULT_BUILD_LIMITS: Readonly<BuildLimits> = Object.freeze({ memoryBytes: 2 * 1024 ** 3, cpus: 1, timeoutMs: 10 * 60_000 });

export interface DockerConfigOptions {
  images?: { node?: string; python?: string };
  /** Path of a PEM CA bundle; `null` turns off AIRLOCK_EXTRA_CA. */
  extraCa?: string | null;
  /** Registry build args; default: read from the host's env, ~/.npmrc and pip.conf. */
  registryArgs?: Record<string, string>;
  /** Build limits; default: DEFAULT_BUILD_LIMITS, the timeout from AIRLOCK_BUILD_TIMEOUT (seconds) when set. */
  buildLimits?: Partial<BuildLimits>;
  /** Default: AIRLOCK_BUILD_NETWORK, else `registries`. */
  buildNetwork?: 'registries' | 'open';
}

function hasCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
}

function readIni(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** `key = value` from an npmrc or pip.conf text (first match; pip.conf: any section, [global] first in practice). */
function iniValue(text: string, key: string): string | undefined {
  const re = new RegExp(`^\\s*${key.replace(/[-]/g, '[-_]')}\\s*[=:]\\s*(.+?)\\s*$`, 'im');
  return re.exec(text)?.[1];
}

/** The registries this host's npm and pip use, as build args (never with credentials). */
export function hostRegistryArgs(env: NodeJS.ProcessEnv = process.env, home = homedir()): Record<string, string> {
  const out: Record<string, string> = {};
  const npmrc = readIni(join(home, '.npmrc'));
  const pipConf = [env.PIP_CONFIG_FILE, join(home, '.config/pip/pip.conf'), join(home, '.pip/pip.conf'), '/etc/pip.conf']
    .filter((p): p is string => p !== undefined)
    .map(readIni)
    .join('\n');
  const candidates: Record<string, string | undefined> = {
    npm_config_registry: env.npm_config_registry ?? env.NPM_CONFIG_REGISTRY ?? iniValue(npmrc, 'registry'),
    PIP_INDEX_URL: env.PIP_INDEX_URL ?? iniValue(pipConf, 'index-url'),
    PIP_EXTRA_INDEX_URL: env.PIP_EXTRA_INDEX_URL ?? iniValue(pipConf, 'extra-index-url'),
    PIP_TRUSTED_HOST: env.PIP_TRUSTED_HOST ?? iniValue(pipConf, 'trusted-host'),
  };
  for (const [name, value] of Object.entries(candidates)) {
    if (value === undefined || value === '' || hasCredentials(value)) continue;
    out[name] = value;
  }
  return out;
}

export function resolveDockerConfig(options: DockerConfigOptions = {}, env: NodeJS.ProcessEnv = process.env): DockerBuildConfig {
  const images = {
    node: options.images?.node ?? env.AIRLOCK_NODE_IMAGE ?? DEFAULT_IMAGES.node,
    python: options.images?.python ?? env.AIRLOCK_PYTHON_IMAGE ?? DEFAULT_IMAGES.python,
  };
  const extraCa = options.extraCa === null ? undefined : (options.extraCa ?? (env.AIRLOCK_EXTRA_CA || undefined));
  if (extraCa !== undefined) {
    let text: string;
    try {
      text = readFileSync(extraCa, 'utf8');
    } catch (e) {
      throw new AirlockError(
        'engine-unavailable',
        `extra CA bundle ${extraCa} (${options.extraCa === undefined ? 'AIRLOCK_EXTRA_CA' : 'extraCa option'}) cannot be read: ${(e as Error).message}`,
        { cause: e },
      );
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      throw new AirlockError(
        'engine-unavailable',
        `extra CA bundle ${extraCa} holds no PEM certificate (expected "-----BEGIN CERTIFICATE-----"); point it at a PEM bundle such as /etc/ssl/certs/ca-certificates.crt`,
      );
    }
  }
  let timeoutMs = DEFAULT_BUILD_LIMITS.timeoutMs;
  if (env.AIRLOCK_BUILD_TIMEOUT !== undefined && env.AIRLOCK_BUILD_TIMEOUT !== '') {
    const s = Number(env.AIRLOCK_BUILD_TIMEOUT);
    if (!Number.isFinite(s) || s <= 0)
      throw new AirlockError(
        'engine-unavailable',
        `AIRLOCK_BUILD_TIMEOUT must be a positive number of seconds, got "${env.AIRLOCK_BUILD_TIMEOUT}" (e.g. AIRLOCK_BUILD_TIMEOUT=900)`,
      );
    timeoutMs = s * 1000;
  }
  const buildLimits = { ...DEFAULT_BUILD_LIMITS, timeoutMs, ...options.buildLimits };
  const net = options.buildNetwork ?? (env.AIRLOCK_BUILD_NETWORK || 'registries');
  if (net !== 'registries' && net !== 'open')
    throw new AirlockError('engine-unavailable', `AIRLOCK_BUILD_NETWORK must be "registries" or "open", got "${net}"`);
  return { images, extraCa, registryArgs: options.registryArgs ?? hostRegistryArgs(env), buildLimits, buildNetwork: net };
}
