/**
 * Builds a plugin's image with dockerode: a Dockerfile generated from
 * runtimes/<runtime>/Dockerfile, a build context from the plugin folder, and
 * a tag that is a content hash of everything the build sees (plugin files,
 * template, in-container host, base image id, extra CA, build args). An image
 * with that tag already present is used as is, so an unchanged plugin is
 * never rebuilt.
 *
 * A build runs no plugin code (see installSteps), and is bounded: memory and
 * CPU per step, a timeout for the whole build (config.buildLimits), and a
 * network that reaches only the package registries (DockerEngine).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { CONTAINER_HOME, CONTAINER_UID } from '../../capabilities/index.ts';
import { cleanDockerOutput, dockerStepFailure } from '../../build/build-output.ts';
import { AirlockError } from '../../errors.ts';
import { BuildSteps } from './build-steps.ts';
import type { Grants } from '../../grants/types.ts';
import { buildSchema } from '../../manifest/schema.ts';
import { formatPath } from '../../manifest/source.ts';
import { type LazyEntry, listPlugin, pluginIgnore, tarStream } from './context.ts';
import type { DockerBuildConfig } from './config.ts';

export const RUNTIMES_DIR = fileURLToPath(new URL('../../../runtimes/', import.meta.url));
const HOST_PROGRAM = { node: 'host.mjs', python: 'host.py' } as const;
/** Airlock's own build helpers per runtime, copied to /airlock/ before the install steps. */
const BUILD_HELPERS = { node: [], python: ['requirements.py'] } as const;
/** Bumped when the way images are built changes in a way the hashed inputs do not show. */
const BUILD_FORMAT = 'airlock-docker-build/2';

export type BuildEvent =
  | { type: 'cached'; tag: string }
  | { type: 'pull'; image: string; message: string }
  | { type: 'step'; step: string }
  | { type: 'output'; text: string }
  | { type: 'built'; tag: string; ms: number };

export interface BuildOptions {
  onProgress?: (event: BuildEvent) => void;
  signal?: AbortSignal;
  /** The manifest's `build:` section. */
  build?: { dependencies?: string; args?: Record<string, string> };
  /**
   * Opens the network the build's steps run on, given the registries they may reach (called only when an
   * image is really built); without it they get the daemon's default bridge.
   */
  network?: (allow: RegistryHost[]) => Promise<BuildNetwork>;
}

/** A registry host the install steps may reach. `trusted`: from the host's own configuration or the defaults. */
export interface RegistryHost {
  host: string;
  port: number;
  trusted: boolean;
}

export interface BuildNetwork {
  /** The build's `networkmode`. */
  name: string;
  /** Proxy settings for the steps (Docker's predefined proxy args: not kept in the image or its history). */
  buildArgs: Record<string, string>;
  close(): Promise<void>;
}

const DEFAULT_REGISTRIES = { node: ['https://registry.npmjs.org/'], python: ['https://pypi.org/simple', 'https://files.pythonhosted.org/'] } as const;

/**
 * The registries a build of this runtime talks to: the index URLs in the host's registry args and the
 * plugin's build args, or npm's and PyPI's defaults (PyPI serves files from files.pythonhosted.org).
 * Registries the plugin named are not `trusted`: the egress reaches them only at public addresses.
 */
export function registryHosts(runtime: Runtime, hostArgs: Record<string, string>, pluginArgs: Record<string, string>): RegistryHost[] {
  const keys = runtime === 'node' ? ['npm_config_registry', 'NPM_CONFIG_REGISTRY'] : ['PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL'];
  const urls = (args: Record<string, string>): string[] => keys.flatMap((k) => (args[k] ?? '').split(/\s+/)).filter((u) => u !== '');
  const fromHost = urls(hostArgs);
  const fromPlugin = urls(pluginArgs);
  const out = new Map<string, RegistryHost>();
  const add = (url: string, trusted: boolean): void => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return;
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return;
    const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
    const key = `${host}:${port}`;
    const prev = out.get(key);
    out.set(key, { host, port, trusted: trusted || prev?.trusted === true });
  };
  // With no index configured at all, npm and pip use their defaults.
  const pluginSetsIndex = runtime === 'node' ? fromPlugin.length > 0 : pluginArgs.PIP_INDEX_URL !== undefined;
  const hostSetsIndex = runtime === 'node' ? fromHost.length > 0 : hostArgs.PIP_INDEX_URL !== undefined;
  if (!pluginSetsIndex && !hostSetsIndex) for (const u of DEFAULT_REGISTRIES[runtime]) add(u, true);
  for (const u of fromHost) add(u, true);
  for (const u of fromPlugin) add(u, false);
  return [...out.values()];
}

export interface BuiltImage {
  tag: string;
  /** False when the image was already there. */
  built: boolean;
}

type Runtime = 'node' | 'python';

function quoteJson(s: string): string {
  return JSON.stringify(s);
}

/**
 * The build section is written into the Dockerfile (dependency path) and the install steps' environment
 * (args): it must be what the manifest schema admits. A loaded manifest already is; a section handed to the
 * engine directly is checked by the same schema, so the rules live in src/manifest/schema.ts only.
 */
function checkBuild(plugin: string, build: BuildOptions['build']): void {
  if (build === undefined) return;
  const parsed = buildSchema.safeParse(build);
  if (parsed.success) return;
  const issue = parsed.error.issues[0]!;
  const hint = (issue as { params?: { hint?: unknown } }).params?.hint;
  throw new AirlockError(
    'invalid-manifest',
    `${plugin}: build.${formatPath(issue.path as (string | number)[])}: ${issue.message}${typeof hint === 'string' ? `; ${hint}` : ''}`,
  );
}

/**
 * The install steps of the Dockerfile, from the dependency files the context holds. None of them runs plugin
 * code: the steps run as root, with network, so code run here would be a plugin running outside its grants.
 * - npm: `--ignore-scripts`, so neither the plugin's package.json scripts (preinstall, postinstall, prepare)
 *   nor any dependency's install scripts run. Packages that need a native build step do not work.
 * - pip: `--only-binary=:all:`, so no sdist's setup.py or build backend runs; runtimes/python/requirements.py
 *   first reduces the dependency file to plain requirements (no pip options, no direct URLs or paths), and a
 *   pyproject.toml contributes only its [project].dependencies: the project itself is never built.
 * Only the dependency file is in the image when they run, and they run as the unprivileged user.
 */
function installSteps(runtime: Runtime, files: ReadonlySet<string>, deps: string | undefined, extraCa: boolean): string[] {
  if (runtime === 'node') {
    const pkg = deps ?? 'package.json';
    if (!files.has(pkg)) return deps === undefined ? [] : [`# ${pkg} not found`];
    const dir = pkg.includes('/') ? pkg.slice(0, pkg.lastIndexOf('/') + 1) : '';
    const lock = `${dir}package-lock.json`;
    const ca = extraCa ? 'NODE_EXTRA_CA_CERTS=/airlock/extra-ca.crt ' : '';
    const npm = files.has(lock) ? 'npm ci' : 'npm install --no-package-lock';
    return [
      // Owned by the install's user, so npm can write node_modules (and the lock it keeps) next to it.
      `COPY --chown=10001:10001 ${[pkg, ...(files.has(lock) ? [lock] : [])].map((f) => `plugin/${f}`).join(' ')} /airlock/plugin/${dir}`,
      `RUN cd /airlock/plugin/${dir} && ${ca}${npm} --ignore-scripts --omit=dev --no-audit --no-fund --cache /tmp/npm-cache && rm -rf /tmp/npm-cache`,
    ];
  }
  const deps2 = deps ?? (files.has('requirements.txt') ? 'requirements.txt' : files.has('pyproject.toml') ? 'pyproject.toml' : undefined);
  if (deps2 === undefined || !files.has(deps2)) return deps === undefined ? [] : [`# ${deps} not found`];
  // pip trusts only its own bundle (certifi); the extra CA is added to a copy of it.
  const ca = extraCa
    ? 'cat "$(python3 -c "import pip._vendor.certifi as c; print(c.where())")" /airlock/extra-ca.crt > /tmp/airlock-ca.pem && PIP_CERT=/tmp/airlock-ca.pem '
    : '';
  const file = deps2.endsWith('.toml') ? 'pyproject.toml' : 'requirements.in';
  const pip = 'pip install --only-binary=:all: --no-cache-dir --disable-pip-version-check --no-warn-script-location --target /airlock/site';
  return [
    `COPY plugin/${deps2} /airlock/deps/${file}`,
    `RUN python3 /airlock/requirements.py /airlock/deps/${file} /airlock/deps/requirements.txt ${deps2} && if [ -s /airlock/deps/requirements.txt ]; then ${ca}${pip} -r /airlock/deps/requirements.txt; fi && rm -f /tmp/airlock-ca.pem`,
  ];
}

/**
 * The plugin's user in the image: passwd and group entries for uid CONTAINER_UID (unless the base image
 * has one) and its home, so user look-ups (`os.userInfo()`, `getpass.getuser()`, `pwd`, `~`) work. The
 * home is a size-limited tmpfs at run time (src/capabilities/limits/docker.ts): the root stays read-only.
 */
function userSteps(): string[] {
  const id = CONTAINER_UID;
  return [
    `RUN grep -q '^[^:]*:[^:]*:${id}:' /etc/passwd || echo 'airlock:x:${id}:${id}:Airlock plugin:${CONTAINER_HOME}:/usr/sbin/nologin' >> /etc/passwd && \\`,
    `    (grep -q '^[^:]*:[^:]*:${id}:' /etc/group || echo 'airlock:x:${id}:' >> /etc/group) && \\`,
    `    mkdir -p ${CONTAINER_HOME} && chown ${id}:${id} ${CONTAINER_HOME} && chmod 700 ${CONTAINER_HOME}`,
    `ENV HOME=${CONTAINER_HOME}`,
  ];
}

export interface PreparedBuild {
  tag: string;
  dockerfile: string;
  /**
   * The build context as an uncompressed tar, each plugin file read again as it is sent (one in memory at a
   * time); a file whose bytes are not the ones the tag was computed from fails the build.
   */
  context: () => AsyncGenerator<Buffer>;
  buildArgs: Record<string, string>;
  base: string;
}

/** Everything needed to build (or find) the image; no Docker calls except resolving the base image. */
export async function prepareBuild(docker: Docker, grants: Grants, config: DockerBuildConfig, options: BuildOptions = {}): Promise<PreparedBuild> {
  const runtime = grants.plugin.runtime;
  if (runtime !== 'node' && runtime !== 'python')
    throw new AirlockError('internal', `the Docker engine runs node and python plugins; ${grants.plugin.name} is ${runtime}`);
  const { dir, entry } = grants.plugin;
  if (!entry.startsWith(`${dir}/`)) throw new AirlockError('invalid-manifest', `${grants.plugin.name}: entry ${entry} is not inside ${dir}`);
  const relEntry = entry.slice(dir.length + 1);
  checkBuild(grants.plugin.name, options.build);
  const base = config.images[runtime];
  const baseId = await ensureBase(docker, base, options);

  const { ignore } = await pluginIgnore(dir);
  const plugin = await listPlugin(dir, ignore);
  const files = new Set(plugin.filter((e) => e.type === 'file').map((e) => e.path.slice('plugin/'.length)));
  if (!files.has(relEntry))
    throw new AirlockError(
      'build-failed',
      `${grants.plugin.name}: the entry ${relEntry} is left out of the build by an ignore file in ${dir}; remove its pattern`,
    );

  const template = readFileSync(`${RUNTIMES_DIR}${runtime}/Dockerfile`, 'utf8');
  const hostProgram = readFileSync(`${RUNTIMES_DIR}${runtime}/${HOST_PROGRAM[runtime]}`);
  const ca = config.extraCa === undefined ? undefined : readFileSync(config.extraCa);
  const buildArgs = { ...config.registryArgs, ...(options.build?.args ?? {}) };
  const dockerfile = template
    .replace('{{BASE_IMAGE}}', base)
    .replace('{{PLUGIN_USER}}', userSteps().join('\n'))
    .replace(
      '{{BUILD_ARGS}}',
      Object.keys(buildArgs)
        .sort()
        .map((k) => `ARG ${k}`)
        .join('\n'),
    )
    .replace('{{INSTALL}}', installSteps(runtime, files, options.build?.dependencies, ca !== undefined).join('\n'))
    .replace('{{ENTRY}}', quoteJson(`/airlock/plugin/${relEntry}`));

  const own: LazyEntry[] = [
    { path: '.airlock/', type: 'dir' },
    { path: '.airlock/Dockerfile', type: 'file', data: Buffer.from(dockerfile) },
    { path: `.airlock/${HOST_PROGRAM[runtime]}`, type: 'file', data: hostProgram },
    ...BUILD_HELPERS[runtime].map((f) => ({ path: `.airlock/${f}`, type: 'file' as const, data: readFileSync(`${RUNTIMES_DIR}${runtime}/${f}`) })),
    ...(ca === undefined ? [] : [{ path: '.airlock/extra-ca.crt', type: 'file' as const, data: ca }]),
  ];
  const entries = [...own, ...plugin];
  const hash = createHash('sha256').update(`${BUILD_FORMAT}\0${baseId}\0${JSON.stringify(Object.entries(buildArgs).sort())}\0`);
  // Each file read once here, one at a time; only its digest is kept for the context's second read.
  const digests = new Map<string, string>();
  for (const e of entries) {
    hash.update(`${e.type} ${e.path} ${e.executable === true ? 'x' : '-'} ${e.linkTarget ?? ''}\0`);
    const data = e.data ?? (await e.read?.());
    if (data === undefined) continue;
    hash.update(`${data.length}\0`).update(data);
    if (e.read !== undefined) digests.set(e.path, createHash('sha256').update(data).digest('hex'));
  }
  const tag = `airlock-plugin/${grants.plugin.name}:${hash.digest('hex').slice(0, 24)}`;
  const read = async function* (): AsyncGenerator<LazyEntry> {
    for (const { read, ...e } of entries) {
      const data = e.data ?? (await read?.());
      if (read !== undefined && data !== undefined && createHash('sha256').update(data).digest('hex') !== digests.get(e.path))
        throw new AirlockError('build-failed', `${join(dir, e.path.slice('plugin/'.length))} changed while the image was being built; build again`);
      yield data === undefined ? e : { ...e, data };
    }
  };
  const context = (): AsyncGenerator<Buffer> => tarStream(read());
  return { tag, dockerfile, context, buildArgs, base };
}

/** The base image's id, pulling it first when it is not present. */
export async function ensureBase(docker: Docker, image: string, options: BuildOptions): Promise<string> {
  try {
    return (await docker.getImage(image).inspect()).Id;
  } catch {
    // not present: pull below
  }
  options.onProgress?.({ type: 'pull', image, message: `pulling ${image}` });
  try {
    const stream = (await docker.pull(image, options.signal === undefined ? {} : { abortSignal: options.signal })) as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (e: { status?: string; progress?: string; id?: string }) =>
          options.onProgress?.({ type: 'pull', image, message: [e.id, e.status, e.progress].filter(Boolean).join(' ') }),
      );
    });
    return (await docker.getImage(image).inspect()).Id;
  } catch (e) {
    throw new AirlockError(
      'build-failed',
      `base image ${image} is not present and cannot be pulled: ${(e as Error).message}. Pull it, or point AIRLOCK_NODE_IMAGE / AIRLOCK_PYTHON_IMAGE at a local image`,
      { cause: e },
    );
  }
}

export async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch {
    return false;
  }
}

interface BuildMessage {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/** Builds (or finds) the image of a plugin. A failed build names its step and shows that step's output. */
export async function buildImage(docker: Docker, grants: Grants, config: DockerBuildConfig, options: BuildOptions = {}): Promise<BuiltImage> {
  return buildPrepared(docker, grants, config, await prepareBuild(docker, grants, config, options), options);
}

/** buildImage() after prepareBuild(): finds the image by its tag, else builds it. */
export async function buildPrepared(
  docker: Docker,
  grants: Grants,
  config: DockerBuildConfig,
  prep: PreparedBuild,
  options: BuildOptions = {},
): Promise<BuiltImage> {
  if (await imageExists(docker, prep.tag)) {
    options.onProgress?.({ type: 'cached', tag: prep.tag });
    return { tag: prep.tag, built: false };
  }
  const runtime = grants.plugin.runtime as Runtime;
  const network = await options.network?.(registryHosts(runtime, config.registryArgs, options.build?.args ?? {}));
  try {
    return await runBuild(docker, grants, config, options, prep, network);
  } finally {
    await network?.close();
  }
}

async function runBuild(
  docker: Docker,
  grants: Grants,
  config: DockerBuildConfig,
  options: BuildOptions,
  prep: PreparedBuild,
  network: BuildNetwork | undefined,
): Promise<BuiltImage> {
  const start = performance.now();
  let step = '(before the first step)';
  let output = '';
  let failure: string | undefined;
  let contextError: Error | undefined;
  const steps = new BuildSteps();
  const limits = config.buildLimits;
  // The timeout and the caller's abort both end the request; the daemon then cancels the build and kills
  // the step's container (the classic builder stops with its client).
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  try {
    // A context that cannot be read to the end (a file changed meanwhile) is the build's failure, whatever the daemon says.
    const context = async function* (): AsyncGenerator<Buffer> {
      try {
        yield* prep.context();
      } catch (e) {
        contextError = e as Error;
        throw e;
      }
    };
    const stream = await docker.buildImage(Readable.from(context()), {
      t: prep.tag,
      dockerfile: '.airlock/Dockerfile',
      buildargs: { ...prep.buildArgs, ...(network?.buildArgs ?? {}) },
      rm: true,
      forcerm: true,
      pull: false,
      labels: { 'airlock.managed': 'true', 'airlock.plugin': grants.plugin.name, 'airlock.version': grants.plugin.version },
      // The classic builder: the generated Dockerfile needs nothing newer, and it needs no BuildKit daemon.
      version: '1',
      // Each RUN step's container: bounded memory (no swap beyond it) and CPU.
      memory: limits.memoryBytes,
      memswap: limits.memoryBytes,
      cpuperiod: 100_000,
      cpuquota: Math.max(1000, Math.round(limits.cpus * 100_000)),
      // The registries only, through an egress proxy (see DockerEngine); else the default bridge.
      ...(network === undefined ? {} : { networkmode: network.name }),
      abortSignal: signal,
    });
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      docker.modem.followProgress(
        stream,
        (err: Error | null) => {
          signal.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve();
        },
        (m: BuildMessage) => {
          if (m.error !== undefined) {
            failure = m.errorDetail?.message ?? m.error;
            return;
          }
          const text = m.stream;
          if (text === undefined) return;
          if (steps.isStep(text)) {
            step = (text.slice(text.indexOf(' : ') + 3).split('\n')[0] ?? '').trim();
            output = '';
            options.onProgress?.({ type: 'step', step: text.trim() });
          } else {
            output = (output + text).slice(-8000);
            options.onProgress?.({ type: 'output', text });
          }
        },
      );
      if (signal.aborted) onAbort();
    });
  } catch (e) {
    if (contextError instanceof AirlockError) throw contextError;
    if (options.signal?.aborted === true) throw new AirlockError('aborted', `building ${grants.plugin.name} was aborted`, { cause: e });
    if (timeout.aborted) {
      throw new AirlockError(
        'build-failed',
        `building the image of ${grants.plugin.name} ran past its timeout of ${limits.timeoutMs >= 1000 ? `${limits.timeoutMs / 1000} s` : `${limits.timeoutMs} ms`} at step \`${step}\` and was cancelled (AIRLOCK_BUILD_TIMEOUT sets it, in seconds)\n--- output of that step ---\n${output.trim()}`,
        {
          cause: e,
          details: { step, output, plugin: grants.plugin.name, timeoutMs: limits.timeoutMs },
        },
      );
    }
    failure ??= (e as Error).message;
  }
  if (failure === undefined && !(await imageExists(docker, prep.tag))) failure = 'the daemon reported no error, but the image is missing';
  if (failure !== undefined) {
    throw new AirlockError(
      'build-failed',
      // Cleaned of escapes and repeats (pip echoes the RUN line it ran); the raw text stays in details.
      `building the image of ${grants.plugin.name} failed at step \`${step}\`: ${dockerStepFailure(step, failure)}\n--- output of that step ---\n${cleanDockerOutput(output)}`,
      {
        details: { step, output, raw: `${failure}\n${output}`, plugin: grants.plugin.name, dockerfile: prep.dockerfile },
      },
    );
  }
  const ms = performance.now() - start;
  options.onProgress?.({ type: 'built', tag: prep.tag, ms });
  return { tag: prep.tag, built: true };
}
