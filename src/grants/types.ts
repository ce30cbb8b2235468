/**
 * Grants: what one plugin may do, after the host policy has been intersected
 * with the manifest's request. Every engine takes its whole configuration from
 * this object and from nothing else; it is plain data (structured-clone and
 * JSON safe) so it crosses into workers and containers as is.
 */
export interface Grants {
  plugin: {
    name: string;
    version: string;
    runtime: 'wasm' | 'node' | 'python';
    /** Plugin folder, canonical (realpath). */
    dir: string;
    /** Entry file, canonical, inside `dir`. */
    entry: string;
    /** A WebAssembly component shipped beside a node/python plugin (manifest `wasm:`), canonical. */
    wasm?: string;
  };
  /** Host paths the plugin may reach, each at its guest mount path. Empty: no filesystem. */
  filesystem: FilesystemGrant[];
  /** `null`: no network at all. Otherwise outgoing connections only to these. */
  network: NetworkGrant | null;
  /** Environment the plugin sees: granted names with the host's values (missing host vars are absent). */
  env: Record<string, string>;
  resources: ResourceGrants;
  /** `pooled`: warm instances are reused between calls; `per-call`: a fresh instance for every call. */
  isolation: 'pooled' | 'per-call';
  /**
   * After this many ms without a call an instance is stopped (parked) and the
   * next call that finds none idle starts one again; what it kept in memory
   * is lost. Host policy `idle`. Absent: never.
   */
  idleMs?: number;
  /**
   * Engines on which the host policy accepts read-write grants without the
   * disk/files quota (policy `unboundedWrites`). Absent or empty: every engine
   * must bound writes or refuse the plugin.
   */
  unboundedWrites?: UnboundedWritesEngine[];
  /** The Docker daemon this plugin's containers run on (host policy `docker`); absent: DOCKER_HOST, else the local socket. */
  docker?: DockerDaemonSetting;
  /** The Kubernetes cluster this plugin's Pods run on (host policy `kubernetes`); absent: the Kubernetes engine is not configured. */
  kubernetes?: KubernetesSetting;
}

/** Which cluster, namespace and registry the Kubernetes engine uses (host policy `kubernetes`). Paths are absolute. */
/** Where the engines that reach outside this machine run plugins: the host policy's daemon and cluster, as grants carry them. */
export type EngineSettings = Pick<Grants, 'docker' | 'kubernetes'>;

export interface KubernetesSetting {
  /** A kubeconfig file. */
  kubeconfig: string;
  /** Its context to use (default: its current context). */
  context?: string;
  /** The namespace Pods and their objects are made in. */
  namespace: string;
  /** `host[:port]` of a registry images are pushed to and the cluster pulls from. */
  registry: string;
  /**
   * Whether the cluster enforces NetworkPolicy (its network plugin does), as the operator states it: Airlock
   * cannot see it from the API. Only where it is enforced can a Pod's network be denied or limited to the egress proxy.
   */
  networkPolicy: 'enforced' | 'unenforced';
}

/** Where a Docker daemon is and how to reach it (host policy `docker`). Paths are absolute. */
export interface DockerDaemonSetting {
  /** `unix:///var/run/docker.sock`, `tcp://host:port` or `ssh://user@host[:port]`. */
  host: string;
  /** Mutual TLS: the CA that signed the daemon's certificate, and this client's certificate and key (PEM files). */
  tls?: { ca: string; cert: string; key: string };
  /** Accept a `tcp://` daemon without TLS. */
  insecure?: boolean;
  /** For `ssh://`: the private key (default: the agent at SSH_AUTH_SOCK) and the known_hosts file (default: ~/.ssh/known_hosts). */
  ssh?: { key?: string; knownHosts?: string };
}

/** Engines whose read-write grants cannot be bounded (bind mount, `--dir`). */
export type UnboundedWritesEngine = 'docker' | 'wasmtime';

export interface FilesystemGrant {
  /** Canonical host path (realpath, symlinks resolved). */
  hostPath: string;
  /** Absolute guest path, POSIX style, e.g. `/data`. */
  mount: string;
  access: 'read' | 'read-write';
}

export interface NetworkGrant {
  allow: HostPattern[];
}

export interface HostPattern {
  /** Lowercase host name or IP literal; for wildcards the suffix without `*.`, e.g. `example.com`. */
  host: string;
  /** `true` for `*.example.com`: any subdomain of `host` (not `host` itself). */
  wildcard: boolean;
  /** `undefined`: the web ports 80 and 443 only (a tunnel could otherwise carry any protocol); name other ports explicitly. */
  port?: number;
}

export interface ResourceGrants {
  /** Maximum memory in bytes (wasm linear memory, container memory). */
  memoryBytes: number;
  /** CPU share in cores (e.g. 0.5). */
  cpu: number;
  /** Wall-clock limit per call, in milliseconds. */
  timeoutMs: number;
  /** Calls served at once (pool size). */
  concurrency: number;
  /** Maximum size of one result, in bytes of JSON text. */
  outputBytes: number;
  /** Maximum captured stdout+stderr per call, in bytes; more is cut with a marker. */
  logBytes: number;
  /** Calls waiting for a free instance before `overloaded`. */
  queue: number;
  /** Most bytes (sum of file sizes) in all read-write grants together; writes past it fail with ENOSPC. */
  diskBytes: number;
  /** Most files and folders in all read-write grants together; creating more fails with EDQUOT. */
  files: number;
}
