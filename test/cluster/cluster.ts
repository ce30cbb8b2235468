/**
 * A one-node Kubernetes cluster on loopback for a test run, from the pieces `.ci/setup-cluster.sh` builds
 * and caches (AIRLOCK_CLUSTER_DIR): etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
 * containerd (its own root, state and socket) and a kubelet (cgroupfs, cgroup v1 allowed, bridge CNI), all
 * in one temporary folder with their own PKI. `stop()` leaves nothing behind (see there).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/plugin.ts';
import { type ClusterPki, type KeyPair, kubeconfig, makeClusterPki } from './pki.ts';
import { cniConfig, containerdConfig, K8S_VERSION, kubeletConfig, registryHosts } from './config.ts';
import { cgroupHierarchies, type HostState, releaseHost } from './release.ts';

const run = promisify(execFile);

export { K8S_VERSION, PAUSE_IMAGE } from './config.ts';

export const CONTAINERD_VERSION = '2.4.2';
/** Bounds for a busy 2-core machine: generous, they only stop a hung start or stop. */
const START_TIMEOUT_MS = 10 * 60_000;
const STOP_TIMEOUT_MS = 3 * 60_000;

export interface ClusterTools {
  kube: Record<'apiserver' | 'controllerManager' | 'scheduler' | 'kubelet', string>;
  containerdDir: string;
  etcd: string;
  pauseTar: string;
  cniDir: string;
  runc: string;
}

/** Where the cluster's pieces are, or why they are not there. */
export function findClusterTools(): { tools: ClusterTools } | { missing: string } {
  const dir = process.env.AIRLOCK_CLUSTER_DIR ?? join(process.env.AIRLOCK_CACHE_DIR ?? join(homedir(), '.cache', 'airlock'), `k8s-${K8S_VERSION}`);
  const containerdDir = join(dir, `containerd-${CONTAINERD_VERSION}`);
  const etcd = ['/usr/bin/etcd', '/usr/local/bin/etcd'].find((p) => existsSync(p)) ?? '/usr/bin/etcd';
  const bin = (name: string): string => join(dir, 'bin', name);
  const tools: ClusterTools = {
    kube: { apiserver: bin('kube-apiserver'), controllerManager: bin('kube-controller-manager'), scheduler: bin('kube-scheduler'), kubelet: bin('kubelet') },
    containerdDir,
    etcd,
    pauseTar: join(dir, 'pause.oci.tar'),
    cniDir: '/usr/lib/cni',
    runc: process.env.AIRLOCK_CLUSTER_RUNC ?? '/usr/sbin/runc',
  };
  const needed = [
    ...Object.values(tools.kube),
    ...['containerd', 'containerd-shim-runc-v2', 'ctr'].map((b) => join(containerdDir, b)),
    etcd,
    tools.pauseTar,
    ...['bridge', 'host-local', 'loopback'].map((p) => join(tools.cniDir, p)),
  ];
  const absent = needed.filter((p) => !existsSync(p));
  if (absent.length > 0) return { missing: `${absent.join(', ')} missing (run .ci/setup-cluster.sh)` };
  if (process.getuid?.() !== 0) return { missing: 'the kubelet and containerd need root' };
  return { tools };
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export interface Cluster {
  dir: string;
  nodeName: string;
  /** The kubelet's cgroup root (under every cgroup hierarchy); Pods' cgroups are below it. */
  cgroupRoot: string;
  /** The CNI bridge Pods are attached to. */
  bridge: string;
  /** An admin kubeconfig file (system:masters). */
  kubeconfig: string;
  server: string;
  /** Milliseconds from the start: PKI made, API server ready, Node Ready, ready for Pods (ServiceAccount made). */
  timings: { pki: number; apiserverReady: number; nodeReady: number; ready: number };
  /** A request to the API server as admin. */
  api(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  /** Lets the node pull from a plain-HTTP registry at `host` (host:port, e.g. a loopback docker-registry). */
  pullFrom(host: string): void;
  /** Stops everything and removes what the cluster made on the host. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** Host sysctls the kubelet sets when protectKernelDefaults is false (kernel panics, overcommit): put back at stop. */
const KUBELET_SYSCTLS = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
];

/** Host folders at fixed paths the kubelet (container log links) and libcni (result cache) make: removed at stop if the cluster made them. */
const HOST_DIRS = ['/var/log/containers', '/var/lib/cni/results', '/var/lib/cni'];

interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

export async function startCluster(tools: ClusterTools): Promise<Cluster> {
  const t0 = Date.now();
  const dir = tempDir('airlock-cluster-');
  const id = randomBytes(3).toString('hex');
  const nodeName = `airlock-node-${id}`;
  const cgroupRoot = `/airlock-k8s-${id}`;
  // A bridge name of its own (<= 15 chars) and a /24 from 10.88.0.0/16: cluster runs do not share a network.
  const bridge = `alk${id}`;
  const podCidr = `10.88.${randomBytes(1)[0]}.0/24`;
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const procs: Proc[] = [];
  const sysctls = new Map(KUBELET_SYSCTLS.map((k) => [k, readFileSync(`/proc/sys/${k}`, 'utf8')]));
  const hierarchies = cgroupHierarchies('v1');
  const madeDirs = HOST_DIRS.filter((d) => !existsSync(d));

  const pki = makeClusterPki(mkdirP(join(dir, 'pki')), nodeName);
  const tPki = Date.now() - t0;
  const [etcdClient, etcdPeer, apiPort, kubeletPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const server = `https://127.0.0.1:${apiPort}`;
  const kcfg = (name: string, user: KeyPair): string => {
    const file = join(dir, `${name}.kubeconfig`);
    writeFileSync(file, kubeconfig(pki, server, user));
    return file;
  };
  const adminConfig = kcfg('admin', pki.clients.admin);

  const start = (name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void => {
    const out = openSync(join(logs, `${name}.log`), 'a');
    // detached: a process group of its own, killed whole at stop.
    const child = spawn(cmd, args, { cwd: dir, detached: true, stdio: ['ignore', out, out], env });
    closeSync(out);
    const exited = once(child, 'exit').then(() => undefined);
    procs.push({ name, child, exited });
  };
  const logTail = (name: string): string => {
    try {
      return readFileSync(join(logs, `${name}.log`), 'utf8')
        .split('\n')
        .slice(-25)
        .join('\n');
    } catch {
      return '(no log)';
    }
  };
  const api = (method: string, path: string, body?: unknown): Promise<ApiResponse> => apiRequest(pki, apiPort, method, path, body);

  // What is undone at stop, and by the reaper (test/cluster/reaper.ts) if this process dies first (a SIGKILL or
  // SIGINT runs no exit handler). Synchronous, so that it also runs from process.on('exit').
  const host: HostState = { dir, cgroupRoot, bridge, sysctls: [...sysctls], madeDirs };
  const reaper = spawn(process.execPath, [join(import.meta.dirname, 'reaper.ts'), String(process.pid), JSON.stringify(host)], {
    detached: true,
    stdio: 'ignore',
  });
  reaper.unref();
  let released = false;
  const release = (): string[] => {
    if (released) return [];
    released = true;
    process.off('exit', release);
    if (reaper.pid !== undefined) process.kill(reaper.pid, 'SIGKILL');
    for (const p of procs) signalGroup(p, 'SIGKILL');
    if (process.env.AIRLOCK_CLUSTER_LOGS !== undefined) cpSync(logs, join(process.env.AIRLOCK_CLUSTER_LOGS, nodeName), { recursive: true });
    return releaseHost(host);
  };
  process.on('exit', release);

  const stop = async (): Promise<void> => {
    const problems: string[] = [];
    // Pods deleted through the API while the kubelet runs: it stops their sandboxes, so containerd undoes
    // their network (CNI DEL: veth, host-local address) and unmounts their root file systems.
    if (procs.some((p) => p.name === 'kubelet' && p.child.exitCode === null)) {
      await deleteAllPods(api).catch((e: unknown) => problems.push(`deleting Pods: ${String(e)}`));
    }
    // Process groups, the kubelet first (it would restart what containerd stops), etcd last.
    for (const p of [...procs].reverse()) await terminateGroup(p);
    problems.push(...release());
    if (problems.length > 0) throw new Error(`cluster stop: ${problems.join('; ')}`);
  };

  try {
    // etcd: the API server's store, on two free loopback ports.
    start('etcd', tools.etcd, [
      '--name=airlock',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=airlock=http://127.0.0.1:${etcdPeer}`,
    ]);
    start('kube-apiserver', tools.kube.apiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'apiserver')}`,
      `--tls-cert-file=${pki.apiserver.cert}`,
      `--tls-private-key-file=${pki.apiserver.key}`,
      `--client-ca-file=${pki.ca}`,
      `--kubelet-client-certificate=${pki.apiserverKubeletClient.cert}`,
      `--kubelet-client-key=${pki.apiserverKubeletClient.key}`,
      `--kubelet-certificate-authority=${pki.ca}`,
      '--kubelet-preferred-address-types=InternalIP',
      `--service-account-issuer=https://kubernetes.default.svc`,
      `--service-account-key-file=${pki.serviceAccount.pub}`,
      `--service-account-signing-key-file=${pki.serviceAccount.key}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      // A loopback address cannot be the `kubernetes` Service's endpoint; nothing in the tests needs it.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
    ]);
    await waitFor('the API server to be ready', START_TIMEOUT_MS, procs, logTail, async () => {
      const r = await api('GET', '/readyz').catch(() => undefined);
      return r?.status === 200;
    });
    const tApi = Date.now() - t0;

    start('kube-controller-manager', tools.kube.controllerManager, [
      `--kubeconfig=${kcfg('controller-manager', pki.clients.controllerManager)}`,
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      '--leader-elect=false',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.serviceAccount.key}`,
      `--root-ca-file=${pki.ca}`,
      '--profiling=false',
    ]);
    start('kube-scheduler', tools.kube.scheduler, [
      `--kubeconfig=${kcfg('scheduler', pki.clients.scheduler)}`,
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      '--leader-elect=false',
      '--profiling=false',
    ]);

    // containerd: root, state, sockets, CNI config and network namespaces all under the folder; no NRI
    // (its socket is machine-wide), runc from Debian under the shim built with containerd.
    const ctd = join(dir, 'containerd');
    const socket = join(ctd, 'containerd.sock');
    const cniConf = mkdirP(join(dir, 'cni'));
    writeFileSync(join(cniConf, '10-airlock.conflist'), cniConfig(bridge, podCidr, join(dir, 'cni-ipam')));
    writeFileSync(join(dir, 'containerd.toml'), containerdConfig(ctd, socket, tools.cniDir, cniConf, tools.runc));
    start('containerd', join(tools.containerdDir, 'containerd'), ['--config', join(dir, 'containerd.toml')], {
      ...process.env,
      PATH: `${tools.containerdDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    });
    const ctr = (args: string[]): Promise<{ stdout: string }> => run(join(tools.containerdDir, 'ctr'), ['--address', socket, '--namespace', 'k8s.io', ...args]);
    await waitFor(
      'containerd to answer',
      START_TIMEOUT_MS,
      procs,
      logTail,
      async () =>
        existsSync(socket) &&
        (await ctr(['version']).then(
          () => true,
          () => false,
        )),
    );
    await ctr(['images', 'import', '--local', tools.pauseTar]);

    // The kubelet: cgroupfs under a cgroup root of its own (created here in every v1 hierarchy), cgroup v1
    // allowed, its folders under the temporary one.
    for (const h of hierarchies) {
      mkdirSync(join(h, cgroupRoot));
      if (existsSync(join(h, 'cpuset.cpus'))) {
        for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(h, cgroupRoot, f), readFileSync(join(h, f)));
      }
    }
    const kubeletDir = mkdirP(join(dir, 'kubelet'));
    writeFileSync(
      join(dir, 'kubelet.yaml'),
      kubeletConfig({ cgroupRoot, socket, port: kubeletPort, serving: pki.kubelet, ca: pki.ca, podCidr, podLogsDir: join(dir, 'pod-logs') }),
    );
    start('kubelet', tools.kube.kubelet, [
      `--config=${join(dir, 'kubelet.yaml')}`,
      `--kubeconfig=${kcfg('kubelet', pki.clients.node)}`,
      `--root-dir=${kubeletDir}`,
      `--cert-dir=${join(kubeletDir, 'pki')}`,
      `--hostname-override=${nodeName}`,
      '--node-ip=127.0.0.1',
    ]);
    await waitFor(`Node ${nodeName} to be Ready`, START_TIMEOUT_MS, procs, logTail, async () => {
      const r = await api('GET', `/api/v1/nodes/${nodeName}`).catch(() => undefined);
      return r?.status === 200 && nodeReady(r.body);
    });
    const tNode = Date.now() - t0;
    // The kubelet refuses a loopback node IP ("nodeIP can't be loopback address") and then reports no address at
    // all, so the API server cannot reach it for attach, exec and logs (500, "no preferred addresses found").
    // Its status updates leave addresses they could not set as they are: the address is set here, once.
    const patched = await api('PATCH', `/api/v1/nodes/${nodeName}/status`, { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] } });
    if (patched.status !== 200) throw new Error(`setting the Node's address: ${patched.status} ${JSON.stringify(patched.body)}`);
    // Pods are refused until the controller manager has made the namespace's `default` ServiceAccount.
    await waitFor('the default ServiceAccount', START_TIMEOUT_MS, procs, logTail, async () => {
      const r = await api('GET', '/api/v1/namespaces/default/serviceaccounts/default').catch(() => undefined);
      return r?.status === 200;
    });
    return {
      dir,
      nodeName,
      cgroupRoot,
      bridge,
      kubeconfig: adminConfig,
      server,
      timings: { pki: tPki, apiserverReady: tApi, nodeReady: tNode, ready: Date.now() - t0 },
      api,
      pullFrom: (host: string) => writeFileSync(join(mkdirP(join(ctd, 'certs.d', host)), 'hosts.toml'), registryHosts(host)),
      stop,
    };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

function mkdirP(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}

function nodeReady(node: unknown): boolean {
  const conditions = (node as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Polls `ready` until true; fails early (with the log) when a process of the cluster exits. */
async function waitFor(what: string, timeoutMs: number, procs: Proc[], logTail: (name: string) => string, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead !== undefined)
      throw new Error(`${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}) while waiting for ${what}:\n${logTail(dead.name)}`);
    if (await ready()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}:\n${procs.map((p) => `--- ${p.name}\n${logTail(p.name)}`).join('\n')}`);
    await sleep(500);
  }
}

function apiRequest(pki: ClusterPki, port: number, method: string, path: string, body?: unknown): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        ca: readFileSync(pki.ca),
        cert: readFileSync(pki.clients.admin.cert),
        key: readFileSync(pki.clients.admin.key),
        headers:
          data === undefined
            ? {}
            : { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json', 'content-length': Buffer.byteLength(data) },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // /readyz answers plain text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 30s`)));
    req.on('error', reject);
    req.end(data);
  });
}

async function deleteAllPods(api: (m: string, p: string) => Promise<ApiResponse>): Promise<void> {
  const list = async (): Promise<{ metadata: { name: string; namespace: string } }[]> =>
    ((await api('GET', '/api/v1/pods')).body as { items?: { metadata: { name: string; namespace: string } }[] }).items ?? [];
  for (const pod of await list()) await api('DELETE', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`);
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while ((await list()).length > 0) {
    if (Date.now() > deadline) throw new Error(`Pods still present after ${STOP_TIMEOUT_MS / 1000}s`);
    await sleep(500);
  }
}

function signalGroup(p: Proc, signal: NodeJS.Signals): void {
  if (p.child.pid === undefined) return;
  try {
    process.kill(-p.child.pid, signal);
  } catch {
    // group gone
  }
}

/** SIGTERM to the process group, SIGKILL after a bounded wait. */
async function terminateGroup(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  signalGroup(p, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(p, 'SIGKILL'), 30_000);
  await p.exited;
  clearTimeout(timer);
}
