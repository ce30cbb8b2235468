/**
 * A plugin's Pod from its grants. Pure: the Docker engine's container options
 * (src/engines/docker/options.ts, each capability's own mapping) are computed
 * once and translated here, so a Pod gets what a container gets: the same
 * user, read-only root, no capabilities, no privilege escalation, the runtime's
 * default seccomp profile, memory and CPU limits, size-limited in-memory /tmp
 * and home, granted env only, and the image's own entry command (the
 * in-container host). What a Pod cannot express (host paths, a network on a
 * cluster that does not enforce NetworkPolicy) is refused, never dropped.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Grants, KubernetesSetting } from '../../grants/types.ts';
import { dockerRunSpec } from '../docker/options.ts';
import { hardenedContainerSecurity, hardenedPodSpec } from './hardening.ts';
import { networkRefusals } from './network.ts';

/** The plugin's container in its Pod (attach and exec name it). */
export const CONTAINER_NAME = 'plugin';

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'airlock';
export const LABEL_PLUGIN = 'airlock.dev/plugin';
/** The engine instance that made an object: orphan clean-up deletes the objects of instances whose lease ran out (./lease.ts). */
export const LABEL_HOST = 'airlock.dev/host';
/** One plugin's load: its Pods, and the objects made for them. */
export const LABEL_POD_SET = 'airlock.dev/pod-set';

/** A label value or name part: lowercase letters, digits and `-`, starting and ending alphanumeric, at most `max`. */
export function dnsLabel(s: string, max = 63): string {
  const cleaned = s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, max)
    .replace(/^-+|-+$/g, '');
  return cleaned === '' ? 'x' : cleaned;
}

export interface PodSetLabels {
  /** Select exactly this plugin load's Pods. */
  podLabels: Record<string, string>;
  /** On every object made for it. */
  ownerLabels: Record<string, string>;
}

export function podSetLabels(plugin: string, hostId: string, podSet: string): PodSetLabels {
  const podLabels = { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_POD_SET]: podSet };
  return { podLabels, ownerLabels: { ...podLabels, [LABEL_HOST]: hostId, [LABEL_PLUGIN]: dnsLabel(plugin) } };
}

/**
 * Why these grants cannot run as Pods exactly as granted (empty: they can). Pure. Host paths are refused:
 * a Pod runs on some node of the cluster, where a hostPath volume names that node's files, not the granted folder.
 */
export function kubernetesRefusals(grants: Grants, setting: KubernetesSetting | undefined = grants.kubernetes): string[] {
  if (setting === undefined)
    return ['the host policy names no Kubernetes cluster: add a `kubernetes:` section (kubeconfig, namespace, registry) to run plugins as Pods'];
  const refusals = grants.filesystem.map(
    (fs) =>
      `filesystem: ${fs.hostPath} (granted ${fs.access} at ${fs.mount}) is a folder of this machine; a Pod runs on a cluster node, where a hostPath volume would name that node's files, so the Kubernetes engine mounts no host path. Run this plugin on the worker or Docker engine, or drop the grant`,
  );
  // Env and limits as the container gets them; the filesystem is judged above.
  refusals.push(...dockerRunSpec({ ...grants, filesystem: [] }).refusals);
  refusals.push(...networkRefusals(grants, setting));
  return [...new Set(refusals)];
}

export interface PodInput {
  grants: Grants;
  /** Pod name (DNS label). */
  name: string;
  namespace: string;
  /** An image reference the cluster pulls, by digest. */
  image: string;
  /** PodSetLabels.ownerLabels. */
  labels: Record<string, string>;
  /** More environment (the network's proxy address), on top of the granted names. */
  env?: Record<string, string>;
}

/** `size=N` of a Docker tmpfs option string, in bytes. */
function tmpfsSize(options: string): number | undefined {
  const m = /(?:^|,)size=(\d+)(?:,|$)/.exec(options);
  return m === null ? undefined : Number(m[1]);
}

/** The Pod for one warm instance of a plugin. Pure. */
export function podManifest(input: PodInput): V1Pod {
  const { grants } = input;
  const { hostConfig, env } = dockerRunSpec({ ...grants, filesystem: [] });
  const memory = String(hostConfig.Memory ?? grants.resources.memoryBytes);
  const cpu = `${Math.max(1, Math.round((hostConfig.NanoCpus ?? grants.resources.cpu * 1e9) / 1e6))}m`;
  // Each tmpfs of the container is an in-memory emptyDir of the same size (it counts against the memory limit, as a tmpfs does).
  const tmpfs = Object.entries(hostConfig.Tmpfs ?? {});
  const volumes = tmpfs.map(([, options], i) => {
    const size = tmpfsSize(options);
    return { name: `tmp${i}`, emptyDir: { medium: 'Memory', ...(size === undefined ? {} : { sizeLimit: String(size) }) } };
  });
  const volumeMounts = tmpfs.map(([path], i) => ({ name: `tmp${i}`, mountPath: path }));
  const allEnv = { ...env, ...(input.env ?? {}) };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: input.name, namespace: input.namespace, labels: { ...input.labels } },
    spec: {
      ...hardenedPodSpec(),
      // A timed-out or aborted call's Pod is replaced, not drained: the shortest grace that is not a force deletion (./pod.ts).
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: CONTAINER_NAME,
          image: input.image,
          imagePullPolicy: 'IfNotPresent',
          workingDir: '/airlock/plugin',
          // The engine attaches to stdin and keeps it open for the Pod's life (one JSON-lines session).
          stdin: true,
          stdinOnce: false,
          tty: false,
          env: Object.keys(allEnv)
            .sort()
            .map((name) => ({ name, value: allEnv[name]! })),
          resources: { requests: { memory, cpu }, limits: { memory, cpu } },
          securityContext: hardenedContainerSecurity(),
          volumeMounts,
        },
      ],
      volumes,
    },
  };
}
