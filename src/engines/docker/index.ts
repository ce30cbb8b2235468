/**
 * The Docker engine (Strategy B): node and python plugins in hardened
 * containers. Per plugin: an image built from a generated Dockerfile and
 * tagged by content hash (build.ts), container options derived from the
 * Grants by the capabilities (options.ts), a pool of warm containers speaking
 * JSON lines over stdio (pool.ts, container.ts), and for a network grant an
 * internal network behind the egress proxy (network.ts).
 */
import { lookup } from 'node:dns/promises';
import type Docker from 'dockerode';
import { AirlockError } from '../../errors.ts';
import type { Grants } from '../../grants/types.ts';
import { loadPluginOffThread } from '../../manifest/index.ts';
import type { Artefact, Engine, EngineLoadOptions, Prepared } from '../engine.ts';
import type { CallOptions, CallResult, EnginePlugin } from '../types.ts';
import { buildPrepared, ensureBase, prepareBuild, type BuildEvent, type BuildNetwork, type BuildOptions, type BuiltImage, type RegistryHost } from './build.ts';
import { resolveDockerConfig, type DockerBuildConfig, type DockerConfigOptions } from './config.ts';
import { dockerClient } from './client.ts';
import { daemonFailure, resolveDaemon, type DockerDaemon, type DockerDaemonSetting } from './daemon.ts';
import type { EgressDecision } from '../../egress/index.ts';
import { addressRange } from '../../egress/index.ts';
import type { HostPattern } from '../../grants/types.ts';
import { copyGrantsToVolumes, type GrantVolumes } from './grant-volumes.ts';
import { startEgress, type Egress } from './network.ts';
import { CONTAINER_USER, dockerRunSpec } from './options.ts';
import { removeOrphans } from './orphans.ts';
import { ContainerPool } from './pool.ts';

export { buildImage, prepareBuild, type BuildEvent } from './build.ts';
export { DEFAULT_IMAGES, hostRegistryArgs, resolveDockerConfig } from './config.ts';
export { CONTAINER_USER, dockerRunSpec, HARDENING } from './options.ts';
export { removeOrphans } from './orphans.ts';

export interface DockerEngineOptions extends DockerConfigOptions {
  /** A client for every plugin (default: one per daemon, see ./daemon.ts). */
  docker?: Docker;
  /** The daemon of plugins whose grants name none (default: DOCKER_HOST and friends, else the local socket). */
  daemon?: DockerDaemonSetting;
  /** Remove what dead Airlock processes left behind, once, before the first load (default true). */
  cleanupOrphans?: boolean;
  /** Every egress decision (allowed, refused, failed), e.g. for logs. */
  onEgress?: (plugin: string, decision: EgressDecision) => void;
}

/** An image build's progress as an engine event's line (empty: nothing to say); `detail` for a tool's own output. */
function buildEventLine(e: BuildEvent): { message: string; detail: boolean } {
  return { message: buildEventText(e), detail: e.type === 'output' };
}

function buildEventText(e: BuildEvent): string {
  return e.type === 'step'
    ? e.step
    : e.type === 'output'
      ? e.text.trimEnd()
      : e.type === 'pull'
        ? e.message
        : e.type === 'cached'
          ? `image ${e.tag} is up to date`
          : `built ${e.tag} in ${(e.ms / 1000).toFixed(1)} s`;
}

export interface DockerLoadOptions {
  /** Image build progress (cached, steps, output, built). */
  onProgress?: (event: BuildEvent) => void;
  signal?: AbortSignal;
  /** The manifest's `build:` section; default: read from the plugin's plugin.yaml. */
  build?: { dependencies?: string; args?: Record<string, string> };
}

interface SharedBuild {
  promise: Promise<BuiltImage>;
  /** Callers waiting for it; the build is cancelled when the last one aborts. */
  waiters: number;
  controller: AbortController;
  /** Each waiter's onProgress. */
  listeners: Set<(e: BuildEvent) => void>;
}

/** Limits the protocol stream: the largest result and logs, JSON-escaped (at most 6 bytes per byte), plus slack. */
export function maxLineBytes(grants: Grants): number {
  return 6 * (grants.resources.outputBytes + grants.resources.logBytes) + 64 * 1024;
}

/** A daemon and its client, as one plugin's grants name it. */
interface Target {
  daemon: DockerDaemon;
  docker: Docker;
}

export class DockerEngine implements Engine {
  readonly name = 'docker';
  readonly #options: DockerEngineOptions;
  #config: DockerBuildConfig | undefined;
  /** Orphan clean-up, once per daemon. */
  readonly #cleanup = new Map<string, Promise<unknown>>();
  readonly #plugins = new Set<EnginePlugin>();
  /**
   * Builds in flight by image tag (a content hash): loading a plugin twice at once builds once, and a
   * folder changed meanwhile gets its own build rather than the older content's image.
   */
  readonly #building = new Map<string, SharedBuild>();

  constructor(options: DockerEngineOptions = {}) {
    this.#options = options;
  }

  /** The client of the default daemon (plugins whose grants name none). */
  get docker(): Docker {
    return this.#options.docker ?? dockerClient(resolveDaemon(this.#options.daemon));
  }

  /** The daemon a plugin runs on: its grants' (the host policy's `docker`), else this engine's default. */
  #target(grants: Grants): Target {
    const daemon = resolveDaemon(grants.docker ?? this.#options.daemon);
    return { daemon, docker: this.#options.docker ?? dockerClient(daemon) };
  }

  get config(): DockerBuildConfig {
    this.#config ??= resolveDockerConfig(this.#options);
    return this.#config;
  }

  /** Builds (or finds) the plugin's image; what load() does first. */
  async build(grants: Grants, options: DockerLoadOptions = {}): Promise<BuiltImage> {
    if (options.signal?.aborted === true) throw new AirlockError('aborted', `building ${grants.plugin.name} was aborted`);
    let build = options.build;
    if (build === undefined) {
      try {
        build = (await loadPluginOffThread(grants.plugin.dir)).manifest.build;
      } catch {
        // No readable plugin.yaml (grants built directly): defaults.
      }
    }
    const { docker, daemon } = this.#target(grants);
    const prep = await prepareBuild(docker, grants, this.config, {
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(build === undefined ? {} : { build }),
    });
    // Builds are shared by tag on one daemon; another daemon builds its own.
    const key = `${daemon.key}\n${prep.tag}`;
    let shared = this.#building.get(key);
    // A build whose every waiter gave up is being cancelled: start afresh.
    if (shared === undefined || shared.controller.signal.aborted) {
      const controller = new AbortController();
      const listeners = new Set<(e: BuildEvent) => void>();
      const onProgress = (e: BuildEvent): void => {
        for (const l of listeners) l(e);
      };
      const buildOptions: BuildOptions = {
        onProgress,
        signal: controller.signal,
        ...(build === undefined ? {} : { build }),
        ...(this.config.buildNetwork === 'open'
          ? {}
          : { network: (hosts: RegistryHost[]) => this.#buildNetwork(docker, daemon, grants.plugin.name, hosts, onProgress, controller.signal) }),
      };
      const entry: SharedBuild = {
        promise: buildPrepared(docker, grants, this.config, prep, buildOptions).finally(() => {
          if (this.#building.get(key) === entry) this.#building.delete(key);
        }),
        waiters: 0,
        controller,
        listeners,
      };
      shared = entry;
      this.#building.set(key, entry);
    }
    return this.#wait(shared, grants.plugin.name, options);
  }

  /** One caller's wait for a shared build: its abort ends its own wait, and the build once nobody waits. */
  #wait(shared: SharedBuild, plugin: string, options: DockerLoadOptions): Promise<BuiltImage> {
    const { signal, onProgress } = options;
    shared.waiters += 1;
    if (onProgress !== undefined) shared.listeners.add(onProgress);
    return new Promise<BuiltImage>((resolve, reject) => {
      let done = false;
      const finish = (): boolean => {
        if (done) return false;
        done = true;
        shared.waiters -= 1;
        if (onProgress !== undefined) shared.listeners.delete(onProgress);
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = (): void => {
        if (!finish()) return;
        if (shared.waiters === 0) shared.controller.abort();
        reject(new AirlockError('aborted', `building ${plugin} was aborted`));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      shared.promise.then(
        (r) => {
          if (finish()) resolve(r);
        },
        (e: unknown) => {
          if (finish()) reject(e);
        },
      );
    });
  }

  /**
   * The network an image build runs on: internal, its only way out an egress proxy admitting just the
   * registries' hosts. The install steps run no plugin code, but npm and pip fetch whatever URLs the
   * dependency files name (a tarball URL in package.json, say), and from the daemon's bridge that reaches
   * the host's own services and the LAN; through the proxy it reaches the registries and nothing else.
   */
  async #buildNetwork(
    docker: Docker,
    daemon: DockerDaemon,
    plugin: string,
    hosts: RegistryHost[],
    onProgress: ((e: BuildEvent) => void) | undefined,
    signal: AbortSignal | undefined,
  ): Promise<BuildNetwork> {
    const allow: HostPattern[] = [];
    for (const h of hosts) {
      allow.push({ host: h.host, wildcard: false, port: h.port });
      if (!h.trusted) continue;
      // A registry this host configured (or npm's and PyPI's own) is reached wherever this host's resolver
      // puts it, a private mirror included; the proxy admits a name's non-public addresses only when named.
      const addresses = await lookup(h.host, { all: true }).catch(() => []);
      for (const a of addresses) if (addressRange(a.address) !== 'unicast') allow.push({ host: a.address, wildcard: false, port: h.port });
    }
    if (signal?.aborted === true) throw new AirlockError('aborted', `building ${plugin} was aborted`);
    const egress = await startEgress(docker, `${plugin}-build`, allow, {
      remote: daemon.remote,
      image: await ensureBase(docker, this.config.images.node, {}).then(() => this.config.images.node),
      onDecision: (d: EgressDecision) => {
        if (d.decision !== 'allowed')
          onProgress?.({ type: 'output', text: `[airlock] build network ${d.decision} ${d.host ?? '?'}:${d.port ?? '?'}: ${d.reason}\n` });
      },
    });
    const proxy = egress.url;
    return {
      name: egress.network,
      buildArgs: { HTTP_PROXY: proxy, HTTPS_PROXY: proxy, http_proxy: proxy, https_proxy: proxy, NO_PROXY: '', no_proxy: '' },
      close: () => egress.close(),
    };
  }

  /** The image build's options from an engine load's: the manifest's build section, abort, progress as engine events. */
  #buildOptions(grants: Grants, artefact: Artefact, loadOptions: EngineLoadOptions): DockerLoadOptions {
    if (artefact.kind !== 'source')
      throw new AirlockError('internal', `the Docker engine runs a plugin's source; it was given a ${artefact.kind} artefact for ${grants.plugin.name}`);
    const onEvent = loadOptions.onEvent;
    return {
      ...(artefact.build === undefined ? {} : { build: artefact.build }),
      ...(loadOptions.signal === undefined ? {} : { signal: loadOptions.signal }),
      ...(onEvent === undefined
        ? {}
        : {
            onProgress: (e: BuildEvent) => {
              const line = buildEventLine(e);
              if (line.message !== '') onEvent({ type: 'build', plugin: grants.plugin.name, ...line });
            },
          }),
    };
  }

  /** Builds (or finds by content hash) the plugin's image without starting a container: `airlock build`. */
  async prepare(grants: Grants, artefact: Artefact = { kind: 'source' }, loadOptions: EngineLoadOptions = {}): Promise<Prepared> {
    const image = await this.build(grants, this.#buildOptions(grants, artefact, loadOptions));
    // The image id (sha256 of its config) is what it is, whatever the tag: `airlock build` shows it (issue 17).
    const { Id } = await this.#target(grants).docker.getImage(image.tag).inspect();
    return { kind: 'image', artifact: image.tag, cached: !image.built, digest: Id };
  }

  /**
   * Builds (or finds) the plugin's image from its source folder and starts its warm containers.
   * `artefact.build` is the manifest's `build:` section as the host read it (the engine does not read plugin.yaml again).
   */
  async load(grants: Grants, artefact: Artefact = { kind: 'source' }, loadOptions: EngineLoadOptions = {}): Promise<EnginePlugin> {
    const options = this.#buildOptions(grants, artefact, loadOptions);
    if (grants.plugin.runtime !== 'node' && grants.plugin.runtime !== 'python') {
      throw new AirlockError(
        'engine-unavailable',
        `the Docker engine runs node and python plugins; ${grants.plugin.name} is a ${grants.plugin.runtime} plugin`,
      );
    }
    if (options.signal?.aborted === true) throw new AirlockError('aborted', `loading ${grants.plugin.name} was aborted`);
    const { daemon, docker } = this.#target(grants);
    const spec = dockerRunSpec(grants, undefined, daemon);
    if (spec.denials.length > 0) {
      throw new AirlockError('permission-denied', `the Docker engine cannot bound plugin ${grants.plugin.name} as granted: ${spec.denials.join('; ')}`, {
        details: { denials: spec.denials },
      });
    }
    if (spec.refusals.length > 0) {
      throw new AirlockError('engine-unavailable', `the Docker engine cannot run ${grants.plugin.name} exactly as granted: ${spec.refusals.join('; ')}`, {
        details: { refusals: spec.refusals },
      });
    }
    await this.#reachable(daemon, docker);
    if (this.#options.cleanupOrphans !== false) {
      let cleanup = this.#cleanup.get(daemon.key);
      if (cleanup === undefined) this.#cleanup.set(daemon.key, (cleanup = removeOrphans(docker).catch(() => undefined)));
      await cleanup;
    }
    const image = await this.build(grants, options);

    // A remote daemon gets read-only grants as volumes filled from this machine (./grant-volumes.ts).
    const volumes: GrantVolumes | undefined =
      spec.copies.length === 0 ? undefined : await copyGrantsToVolumes(docker, grants.plugin.name, spec.copies, image.tag);
    const hostConfig = volumes === undefined ? spec.hostConfig : { ...spec.hostConfig, Mounts: [...(spec.hostConfig.Mounts ?? []), ...volumes.mounts] };
    let egress: Egress | undefined;
    if (spec.egress !== undefined) {
      const onEgress =
        this.#options.onEgress ??
        (loadOptions.onEvent === undefined
          ? undefined
          : (plugin: string, decision: EgressDecision) => loadOptions.onEvent?.({ type: 'egress', plugin, decision }));
      try {
        egress = await startEgress(docker, grants.plugin.name, spec.egress, {
          remote: daemon.remote,
          image: await ensureBase(docker, this.config.images.node, options).then(() => this.config.images.node),
          ...(onEgress === undefined ? {} : { onDecision: (d: EgressDecision) => onEgress(grants.plugin.name, d) }),
        });
      } catch (e) {
        await volumes?.close();
        throw e;
      }
    }
    const pool = new ContainerPool(docker, grants, {
      image: image.tag,
      plugin: grants.plugin.name,
      hostConfig: egress === undefined ? hostConfig : { ...hostConfig, NetworkMode: egress.network },
      env: { ...spec.env, ...(egress?.env ?? {}) },
      user: CONTAINER_USER,
      maxLineBytes: maxLineBytes(grants),
    });
    try {
      await pool.start(options.signal);
    } catch (e) {
      await egress?.close();
      await volumes?.close();
      throw e;
    }
    let closed: Promise<void> | undefined;
    const plugin: EnginePlugin = {
      call: (tool: string, input: string, callOptions?: CallOptions): Promise<CallResult> => {
        if (egress === undefined) return pool.call(tool, input, callOptions);
        // A dead egress proxy: a clear error rather than the plugin's own ECONNREFUSED.
        const dead = egress.failure();
        if (dead !== undefined) return Promise.reject(dead);
        return pool.call(tool, input, callOptions).catch(async (e: unknown) => {
          // A failed call may be the proxy's death seen first by the plugin (ECONNREFUSED).
          const died = await egress?.check();
          throw died === undefined ? e : new AirlockError(died.code, died.message, { cause: e, details: died.details });
        });
      },
      park: () => pool.park(),
      close: () => {
        closed ??= (async () => {
          this.#plugins.delete(plugin);
          await pool.close();
          await egress?.close();
          await volumes?.close();
        })();
        return closed;
      },
    };
    this.#plugins.add(plugin);
    return plugin;
  }

  /**
   * A daemon that does not answer (or whose TLS handshake fails) is named with the reason and the fix,
   * before anything is built: dockerode's own error for a refused certificate is a bare "socket hang up".
   */
  async #reachable(daemon: DockerDaemon, docker: Docker): Promise<void> {
    try {
      await docker.ping();
    } catch (e) {
      throw new AirlockError('engine-unavailable', `the Docker daemon at ${daemon.where} does not answer: ${daemonFailure(daemon, e)}`, {
        cause: e,
        details: { daemon: daemon.where },
      });
    }
  }

  /** Closes every plugin loaded through this engine. */
  async close(): Promise<void> {
    await Promise.all([...this.#plugins].map((p) => p.close()));
  }
}
