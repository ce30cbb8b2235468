/**
 * NetworkPolicy enforcement for the test cluster: kube-router's firewall controller alone (no routing, no
 * service proxy, no CNI of its own), run as a host process against the cluster's API server. It programs
 * iptables (nf_tables backend) and ipsets for the cluster's Pods on the bridge (br_netfilter hands bridged
 * traffic to iptables). `.ci/setup-cluster.sh` builds it once into the Airlock cache.
 *
 * Its iptables chains and ipsets are machine-wide: stop() removes every one it made (kube-router's own
 * `--cleanup-config` would also flush every IPVS service of the machine, and its policy part removes nothing
 * in v2.1.0), and so does the process exit handler. v2.1.0 is the only version the Go module proxy offers
 * here; its reported flaws concern a cluster's API exposure, not a test on loopback.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from './cluster.ts';

export const KUBE_ROUTER_VERSION = '2.1.0';

export function findKubeRouter(): { bin: string } | { missing: string } {
  const cache = process.env.AIRLOCK_CACHE_DIR ?? join(homedir(), '.cache', 'airlock');
  const bin = process.env.AIRLOCK_KUBE_ROUTER ?? join(cache, `kube-router-${KUBE_ROUTER_VERSION}`, 'bin', 'kube-router');
  const missing = [bin, '/usr/sbin/ipset', '/usr/sbin/iptables'].filter((p) => !existsSync(p));
  return missing.length === 0 ? { bin } : { missing: `${missing.join(', ')} missing (run .ci/setup-cluster.sh)` };
}

export interface Enforcement {
  /** kube-router's log so far. */
  log(): string;
  stop(): Promise<void>;
}

const CHAIN = /^(KUBE-ROUTER-(INPUT|FORWARD|OUTPUT)|KUBE-POD-FW-|KUBE-NWPLCY-)/;
const IPSET = /^(inet6:)?KUBE-(SRC|DST)-/;

/** Removes kube-router's rules, chains and ipsets from the machine. Synchronous: it also runs at process exit. */
export function removeKubeRouterState(): void {
  const rules = (): string[] => execFileSync('iptables', ['-w', '-t', 'filter', '-S'], { encoding: 'utf8' }).split('\n');
  // Jumps from the built-in chains first, then the chains themselves (flushed, then deleted).
  for (const line of rules()) {
    const m = /^-A (INPUT|FORWARD|OUTPUT) (.*-j (\S+).*)$/.exec(line);
    if (m !== null && CHAIN.test(m[3] ?? '')) run(['iptables', '-w', '-t', 'filter', '-D', m[1] ?? '', ...splitArgs(m[2] ?? '')]);
  }
  const chains = rules()
    .map((l) => /^-N (\S+)$/.exec(l)?.[1])
    .filter((c): c is string => c !== undefined && CHAIN.test(c));
  for (const c of chains) run(['iptables', '-w', '-t', 'filter', '-F', c]);
  for (const c of chains) run(['iptables', '-w', '-t', 'filter', '-X', c]);
  const sets = execFileSync('ipset', ['list', '-n'], { encoding: 'utf8' })
    .split('\n')
    .filter((s) => IPSET.test(s));
  for (const s of sets) run(['ipset', 'destroy', s]);
}

function run(argv: string[]): void {
  try {
    execFileSync(argv[0] ?? '', argv.slice(1), { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

/** `iptables -S` quotes comments: split on spaces outside double quotes. */
function splitArgs(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

/** Starts kube-router's firewall for `cluster`; resolves once it has programmed its chains. */
export async function enforceNetworkPolicy(cluster: Cluster, bin: string): Promise<Enforcement> {
  const logFile = join(cluster.dir, 'kube-router.log');
  const out = openSync(logFile, 'a');
  // The cluster folder in its arguments: the cluster's reaper kills it with the rest if this process dies.
  const child: ChildProcess = spawn(
    bin,
    [
      `--kubeconfig=${cluster.kubeconfig}`,
      `--hostname-override=${cluster.nodeName}`,
      '--run-firewall=true',
      '--run-router=false',
      '--run-service-proxy=false',
      '--enable-cni=false',
      '--enable-ipv6=false',
      '--health-port=0',
      '--metrics-port=0',
      '--service-cluster-ip-range=10.0.0.0/24',
      // Policy changes are applied on watch events; the periodic full sync only repairs.
      '--iptables-sync-period=1m',
      // Its sync-took lines (verbosity 1) say a full sync is done.
      '--v=1',
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  closeSync(out);
  const exited = once(child, 'exit');
  const log = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  let stopped = false;
  const kill = (): void => {
    if (stopped) return;
    stopped = true;
    process.off('exit', kill);
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // exited
    }
    removeKubeRouterState();
  };
  process.on('exit', kill);
  const deadline = Date.now() + 5 * 60_000;
  // Ready once its forward chain exists and it has run a full sync (bounded; fails early if it exits).
  while (!(chainExists('KUBE-ROUTER-FORWARD') && /sync iptables took|Saving IPv4 iptables rules took/i.test(log()))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      kill();
      throw new Error(`kube-router exited (${child.exitCode ?? child.signalCode}):\n${log().slice(-3000)}`);
    }
    if (Date.now() > deadline) {
      kill();
      throw new Error(`kube-router did not program its chains within 5 minutes:\n${log().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(-child.pid, 'SIGTERM');
        const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
      kill();
    },
  };
}

function chainExists(chain: string): boolean {
  try {
    execFileSync('iptables', ['-w', '-t', 'filter', '-S', chain], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
