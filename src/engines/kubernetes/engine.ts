/**
 * The Kubernetes engine: node and python plugins as Pods on the cluster the
 * host policy's `kubernetes:` section names. Per plugin: the Docker engine's
 * image, pushed to the policy's registry and pulled by digest (./image.ts);
 * its network objects (./network.ts); a warm set of hardened Pods
 * (./pod-spec.ts) of resources.concurrency, each answering the JSON-lines
 * protocol over attach streams (./pool.ts, ./pod.ts). Per cluster: a lease
 * naming this engine instance (./lease.ts), whose id labels every object it
 * makes, and one clean-up of what dead instances left (./orphans.ts).
 */
import { randomBytes } from 'node:crypto';
import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { AirlockError } from '../../errors.ts';
import type { Grants, KubernetesSetting } from '../../grants/types.ts';
import type { DockerEngine, DockerLoadOptions } from '../docker/index.ts';
import type { Artefact, Engine, EngineEvent, EngineLoadOptions, Prepared } from '../engine.ts';
import type { CallOptions, CallResult, EnginePlugin } from '../types.ts';
import { clusterWhere, loadKubeConfig, statusOf, unreachable } from './client.ts';
import { pushLocal, pushedImage } from './image.ts';
import { type HostLease, startLease } from './lease.ts';
import { preparePodNetwork } from './network.ts';
import { cleanupOrphans } from './orphans.ts';
import { kubernetesRefusals, podManifest, podSetLabels } from './pod-spec.ts';
import { PodPool } from './pool.ts';

export interface KubernetesEngineOptions {
  onEvent?: (event: EngineEvent) => void;
  /** Delete what dead engine instances left in a namespace, once, before the first load there (default true). */
  cleanupOrphans?: boolean;
}

/** One namespace of one cluster, as this engine instance uses it. */
interface Cluster {
  kc: KubeConfig;
  core: CoreV1Api;
  lease: HostLease;
}

export class KubernetesEngine implements Engine {
  readonly name = 'kubernetes';
  readonly #options: KubernetesEngineOptions;
  readonly #clusters = new Map<string, Promise<Cluster>>();
  readonly #plugins = new Set<EnginePlugin>();
  #builder: Promise<DockerEngine> | undefined;

  constructor(options: KubernetesEngineOptions = {}) {
    this.#options = options;
  }

  /** The lease ids of this instance, by namespace key (tests find its objects by them). */
  async hostIds(): Promise<string[]> {
    return Promise.all([...this.#clusters.values()].map(async (c) => (await c).lease.id));
  }

  /** The Docker engine that builds images (its build code, network and cache). */
  #docker(): Promise<DockerEngine> {
    this.#builder ??= import('../docker/index.ts').then(({ DockerEngine }) => new DockerEngine({ cleanupOrphans: false }));
    return this.#builder;
  }

  async #proxyImage(grants: Grants, registry: string, signal: AbortSignal | undefined): Promise<string> {
    const docker = await this.#docker();
    const base = docker.config.images.node;
    const { ensureBase } = await import('../docker/build.ts');
    const { dockerClient } = await import('../docker/client.ts');
    const { resolveDaemon } = await import('../docker/daemon.ts');
    await ensureBase(dockerClient(resolveDaemon(grants.docker)), base, signal === undefined ? {} : { signal });
    return pushLocal(grants, base, registry, `the egress proxy's image (${base})`, signal);
  }

  #cluster(setting: KubernetesSetting): Promise<Cluster> {
    const key = JSON.stringify([setting.kubeconfig, setting.context ?? '', setting.namespace]);
    let cluster = this.#clusters.get(key);
    if (cluster === undefined) {
      cluster = this.#connect(setting);
      this.#clusters.set(key, cluster);
      // A cluster that could not be reached is tried again by the next load.
      cluster.catch(() => this.#clusters.delete(key));
    }
    return cluster;
  }

  async #connect(setting: KubernetesSetting): Promise<Cluster> {
    const kc = await loadKubeConfig(setting);
    const { CoreV1Api } = await import('@kubernetes/client-node');
    const core = kc.makeApiClient(CoreV1Api);
    const { namespace } = setting;
    try {
      await core.readNamespace({ name: namespace });
    } catch (e) {
      const status = statusOf(e);
      // 403: a user limited to its namespace may not read it; the first Pod then tells.
      if (status === 404)
        throw new AirlockError('engine-unavailable', `the namespace ${namespace} (host policy kubernetes.namespace) does not exist on ${clusterWhere(kc)}`, {
          hint: `create it (\`kubectl create namespace ${namespace}\`) or name another`,
        });
      if (status !== 403) throw unreachable(e, kc, setting.kubeconfig);
    }
    if (this.#options.cleanupOrphans !== false) await cleanupOrphans(kc, namespace).catch(() => undefined);
    const lease = await startLease(kc, namespace);
    return { kc, core, lease };
  }

  #buildOptions(grants: Grants, artefact: Artefact, loadOptions: EngineLoadOptions): DockerLoadOptions {
    if (artefact.kind !== 'source')
      throw new AirlockError('internal', `the Kubernetes engine runs a plugin's source; it was given a ${artefact.kind} artefact for ${grants.plugin.name}`);
    const onEvent = loadOptions.onEvent ?? this.#options.onEvent;
    return {
      ...(artefact.build === undefined ? {} : { build: artefact.build }),
      ...(loadOptions.signal === undefined ? {} : { signal: loadOptions.signal }),
      ...(onEvent === undefined
        ? {}
        : {
            onProgress: (e) => {
              if (e.type === 'built') onEvent({ type: 'build', plugin: grants.plugin.name, message: `built ${e.tag} in ${(e.ms / 1000).toFixed(1)} s` });
              else if (e.type === 'cached') onEvent({ type: 'build', plugin: grants.plugin.name, message: `image ${e.tag} is up to date` });
            },
          }),
    };
  }

  /** Refuses what a Pod cannot express exactly as granted; returns the cluster setting. */
  #check(grants: Grants): KubernetesSetting {
    if (grants.plugin.runtime !== 'node' && grants.plugin.runtime !== 'python')
      throw new AirlockError(
        'engine-unavailable',
        `the Kubernetes engine runs node and python plugins; ${grants.plugin.name} is a ${grants.plugin.runtime} plugin`,
      );
    const refusals = kubernetesRefusals(grants);
    if (refusals.length > 0 || grants.kubernetes === undefined)
      throw new AirlockError('engine-unavailable', `the Kubernetes engine cannot run ${grants.plugin.name} exactly as granted: ${refusals.join('; ')}`, {
        details: { refusals },
      });
    return grants.kubernetes;
  }

  /** Builds and pushes the plugin's image without starting a Pod: `airlock build`. */
  async prepare(grants: Grants, artefact: Artefact = { kind: 'source' }, loadOptions: EngineLoadOptions = {}): Promise<Prepared> {
    const setting = this.#check(grants);
    const image = await pushedImage(await this.#docker(), grants, setting.registry, this.#buildOptions(grants, artefact, loadOptions));
    return { kind: 'image', artifact: image.reference, cached: !image.built, digest: image.reference.slice(image.reference.indexOf('@') + 1) };
  }

  async load(grants: Grants, artefact: Artefact = { kind: 'source' }, loadOptions: EngineLoadOptions = {}): Promise<EnginePlugin> {
    const setting = this.#check(grants);
    const options = this.#buildOptions(grants, artefact, loadOptions);
    const signal = loadOptions.signal;
    if (signal?.aborted === true) throw new AirlockError('aborted', `loading ${grants.plugin.name} was aborted`);
    const cluster = await this.#cluster(setting);
    const image = await pushedImage(await this.#docker(), grants, setting.registry, options);
    const { namespace } = setting;
    const { podLabels, ownerLabels } = podSetLabels(grants.plugin.name, cluster.lease.id, randomBytes(6).toString('hex'));
    const onEvent = loadOptions.onEvent ?? this.#options.onEvent;
    // The egress proxy runs from the Node base image plugins are built on, pushed beside the plugin's.
    const proxyImage = grants.network === null ? undefined : await this.#proxyImage(grants, setting.registry, signal);
    const network = await preparePodNetwork({
      kubeconfig: cluster.kc,
      setting,
      grants,
      podLabels,
      ownerLabels,
      ...(proxyImage === undefined ? {} : { proxyImage }),
      ...(signal === undefined ? {} : { signal }),
      ...(onEvent === undefined ? {} : { onEvent }),
    });
    const { dockerHint } = await import('../docker/hints.ts');
    const { maxLineBytes } = await import('../docker/index.ts');
    const pool = new PodPool(grants, {
      kc: cluster.kc,
      core: cluster.core,
      namespace,
      plugin: grants.plugin.name,
      maxLineBytes: maxLineBytes(grants),
      pod: (name) => podManifest({ grants, name, namespace, image: image.reference, labels: ownerLabels, env: network.env }),
      hint: (code, message) => dockerHint(grants, code, message),
    });
    try {
      await pool.start(signal);
    } catch (e) {
      await network.close();
      throw e;
    }
    let closed: Promise<void> | undefined;
    const plugin: EnginePlugin = {
      call: (tool: string, input: string, callOptions?: CallOptions): Promise<CallResult> => pool.call(tool, input, callOptions),
      park: () => pool.park(),
      close: () => {
        closed ??= (async () => {
          this.#plugins.delete(plugin);
          await pool.close();
          await network.close();
        })();
        return closed;
      },
    };
    this.#plugins.add(plugin);
    return plugin;
  }

  /** Closes every plugin (each deletes its Pods and waits until they are gone), then this instance's leases. */
  async close(): Promise<void> {
    await Promise.all([...this.#plugins].map((p) => p.close()));
    const clusters = [...this.#clusters.values()];
    this.#clusters.clear();
    await Promise.all(clusters.map(async (c) => (await c.catch(() => undefined))?.lease.close()));
  }
}
