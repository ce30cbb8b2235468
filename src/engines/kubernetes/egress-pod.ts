/**
 * The egress proxy of a plugin on Kubernetes: Airlock's proxy (src/egress/main.ts) in a Pod of its own,
 * hardened like a plugin's Pod. Its code is not in an image: the proxy's files (the ones the Docker engine
 * copies into its proxy image, ../docker/egress-files.ts) travel in a ConfigMap mounted read-only, and the
 * Pod runs them with any Node >= 22.18 image the cluster pulls (the engine's Node base image in its
 * registry), so no image is built or pushed for the proxy.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import type { HostPattern } from '../../grants/types.ts';
import { egressRuntimeFiles } from '../docker/egress-files.ts';
import { hardenedContainerSecurity, hardenedPodSpec } from './hardening.ts';
import { PROXY_PORT } from './network-policy.ts';

/** Where the ConfigMap is mounted in the proxy's container. */
const CODE_ROOT = '/opt/airlock';
/** A ConfigMap holds at most 1 MiB; the proxy's files are about a tenth of that. */
const MAX_CODE_BYTES = 900 * 1024;
export const PROXY_MEMORY = '96Mi';

export interface ProxyCode {
  /** Path below the mount (e.g. `airlock-egress/main.ts`) → content. */
  files: Map<string, string>;
  command: string[];
  configEnv: string;
}

/** Reads the proxy's files from Airlock's own install (src/ or dist/). */
export async function readProxyCode(): Promise<ProxyCode> {
  const runtime = egressRuntimeFiles(path.posix.join(CODE_ROOT, 'airlock-egress'));
  const files = new Map<string, string>();
  let bytes = 0;
  for (const m of runtime.mounts) {
    const below = path.posix.relative(CODE_ROOT, m.containerPath);
    for (const entry of await readdir(m.hostPath, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const abs = path.join(entry.parentPath, entry.name);
      const text = await readFile(abs, 'utf8');
      bytes += Buffer.byteLength(text);
      files.set(path.posix.join(below, path.relative(m.hostPath, abs).split(path.sep).join('/')), text);
    }
  }
  if (bytes > MAX_CODE_BYTES) throw new Error(`the egress proxy's files are ${bytes} bytes, more than a ConfigMap holds`);
  return { files, command: runtime.command, configEnv: runtime.configEnv };
}

/** The proxy's files as a ConfigMap (keys are flat; the Pod's volume items put each at its path). */
export function proxyCodeConfigMap(name: string, namespace: string, labels: Record<string, string>, code: ProxyCode): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: { ...labels } },
    data: Object.fromEntries([...code.files].map(([, text], i) => [`f${i}`, text])),
    immutable: true,
  };
}

export interface ProxyPodOptions {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** A Node >= 22.18 image the cluster pulls. */
  image: string;
  configMap: string;
  code: ProxyCode;
  allow: readonly HostPattern[];
}

/** Non-root, read-only root, every capability dropped, no privilege escalation, seccomp RuntimeDefault, no service-account token. */
export function proxyPod(o: ProxyPodOptions): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, namespace: o.namespace, labels: { ...o.labels } },
    spec: {
      // The plugin Pod's hardening; a proxy that dies is reported (network.ts), not restarted, as on Docker.
      ...hardenedPodSpec(),
      terminationGracePeriodSeconds: 5,
      containers: [
        {
          name: 'proxy',
          image: o.image,
          imagePullPolicy: 'IfNotPresent',
          command: o.code.command,
          env: [{ name: o.code.configEnv, value: JSON.stringify({ allow: o.allow, listen: { host: '0.0.0.0', port: PROXY_PORT } }) }],
          ports: [{ name: 'proxy', containerPort: PROXY_PORT, protocol: 'TCP' }],
          securityContext: hardenedContainerSecurity(),
          resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '500m', memory: PROXY_MEMORY } },
          volumeMounts: [{ name: 'code', mountPath: CODE_ROOT, readOnly: true }],
        },
      ],
      volumes: [
        {
          name: 'code',
          configMap: { name: o.configMap, defaultMode: 0o444, items: [...o.code.files.keys()].map((p, i) => ({ key: `f${i}`, path: p })) },
        },
      ],
    },
  };
}
