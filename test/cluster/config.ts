/** The configuration files of the test cluster's containerd, kubelet and CNI network (test/cluster/cluster.ts). */
import type { KeyPair } from './pki.ts';

export const K8S_VERSION = '1.37.2';
/** The sandbox image: the pause image .ci/setup-cluster.sh builds from the Kubernetes module's pause.c. */
export const PAUSE_IMAGE = `airlock.local/pause:${K8S_VERSION}`;
/**
 * The kubelet's bound on the processes (threads included) of each Pod: a Pod spec has no pids field, so on
 * Kubernetes a fork bomb is held by the node's podPidsLimit or not at all (README: limitations). Docker's per
 * container limit (DOCKER_PIDS_LIMIT), on a node that is this machine.
 */
export const POD_PIDS_LIMIT = 128;

/** A bridge of the cluster's own (no masquerade, so no iptables rule), addresses from host-local kept under the cluster folder. */
export function cniConfig(bridge: string, subnet: string, ipamDir: string): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'airlock',
    plugins: [
      { type: 'bridge', bridge, isGateway: true, ipMasq: false, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: ipamDir } },
      { type: 'loopback' },
    ],
  });
}

export interface KubeletOptions {
  cgroupRoot: string;
  /** containerd's socket. */
  socket: string;
  port: number;
  serving: KeyPair;
  ca: string;
  podCidr: string;
  podLogsDir: string;
}

/** cgroupfs under a cgroup root of its own, cgroup v1 allowed, on loopback, clients authenticated by the cluster CA. */
export function kubeletConfig(o: KubeletOptions): string {
  return JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: 'cgroupfs',
    cgroupRoot: o.cgroupRoot,
    failCgroupV1: false,
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${o.socket}`,
    address: '127.0.0.1',
    port: o.port,
    readOnlyPort: 0,
    healthzPort: 0,
    tlsCertFile: o.serving.cert,
    tlsPrivateKeyFile: o.serving.key,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: o.ca } },
    authorization: { mode: 'Webhook' },
    podCIDR: o.podCidr,
    podLogsDir: o.podLogsDir,
    podPidsLimit: POD_PIDS_LIMIT,
    // Thresholds low enough that a busy shared disk does not taint the node with disk pressure.
    evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    imageGCHighThresholdPercent: 100,
    // No KUBE-FIREWALL / KUBE-KUBELET-CANARY chains: they are for kube-proxy (not run here) and would outlive the cluster.
    makeIPTablesUtilChains: false,
  });
}

/** containerd's root, state, sockets, runc state, CNI config and network namespaces all under `root`'s folder. */
export function containerdConfig(root: string, socket: string, cniBin: string, cniConf: string, runc: string): string {
  return `version = 3
root = "${root}/root"
state = "${root}/state"
temp = "${root}/tmp"
disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs", "io.containerd.differ.v1.erofs"]

[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  # Per-registry hosts.toml files (registryHosts below): a loopback registry is pulled over plain HTTP.
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = "${root}/certs.d"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "${PAUSE_IMAGE}"

[plugins.'io.containerd.cri.v1.runtime']
  netns_mounts_under_state_dir = true
  # Pods ask for oom_score_adj below containerd's own, which needs CAP_SYS_RESOURCE: this machine's root lacks it
  # (runc then dies with "failed to update /proc/self/oom_score_adj: Permission denied").
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "${runc}"
        Root = "${root}/runc"
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["${cniBin}"]
    conf_dir = "${cniConf}"

[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
`;
}

/**
 * containerd's hosts.toml for a registry at `host` (host:port) speaking plain HTTP, as Debian's
 * docker-registry on loopback does: written to <config_path>/<host>/hosts.toml, read at each pull.
 */
export function registryHosts(host: string): string {
  return `server = "http://${host}"

[host."http://${host}"]
  capabilities = ["pull", "resolve"]
`;
}
