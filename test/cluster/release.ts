/**
 * Undoes on the host what a test cluster (test/cluster/cluster.ts) did, synchronously: kills every process
 * started with the cluster folder in its command line (the components, containerd's shims) and what is left in
 * its cgroups, unmounts what is mounted under the folder, removes the CNI bridge, the cgroup root, the folder and
 * the host folders the kubelet or libcni made, and puts back the kernel sysctls the kubelet changed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HostState {
  dir: string;
  cgroupRoot: string;
  bridge: string;
  /** [key under /proc/sys, value before the cluster started]. */
  sysctls: [string, string][];
  /** Host folders that did not exist before the cluster started. */
  madeDirs: string[];
}

/** Returns what could not be undone (empty when the host is as it was). */
export function releaseHost(host: HostState): string[] {
  const { dir, cgroupRoot, bridge } = host;
  const problems: string[] = [];
  killByArgument(dir);
  // A killed task leaves its cgroup only once it has exited: retried, bounded (a few seconds at most).
  for (let i = 0; i < 50 && cgroupHierarchies().some((h) => existsSync(join(h, cgroupRoot))); i++) {
    if (i > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    for (const h of cgroupHierarchies()) removeCgroup(join(h, cgroupRoot));
  }
  // Mounts under the folder (the kubelet's root, pod volumes, sandbox /dev/shm, network namespaces,
  // root file systems), deepest first.
  for (const m of mounts()
    .filter((x) => x.point === dir || x.point.startsWith(`${dir}/`))
    .sort((a, b) => b.point.length - a.point.length)) {
    try {
      execFileSync('umount', ['-l', m.point], { stdio: 'ignore' });
    } catch (e) {
      problems.push(`umount ${m.point}: ${String(e)}`);
    }
  }
  if (existsSync(`/sys/class/net/${bridge}`)) execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  for (const [k, v] of host.sysctls) {
    try {
      writeFileSync(`/proc/sys/${k}`, v);
    } catch (e) {
      problems.push(`sysctl ${k}: ${String(e)}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  for (const d of host.madeDirs.filter((x) => existsSync(x))) {
    try {
      rmdirSync(d);
    } catch (e) {
      problems.push(`${d}: ${String(e)}`);
    }
  }
  const left = cgroupHierarchies().filter((h) => existsSync(join(h, cgroupRoot)));
  if (left.length > 0) problems.push(`cgroups left: ${left.map((h) => join(h, cgroupRoot)).join(', ')}`);
  return problems;
}

export function mounts(): { point: string; fstype: string }[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const f = line.split(' ');
      return { point: (f[4] ?? '').replace(/\\040/g, ' '), fstype: f[f.indexOf('-') + 1] ?? '' };
    });
}

/** Cgroup hierarchies (v1, or v1 and the hybrid v2 one): the kubelet's cgroup root has to exist in each v1 one. */
export function cgroupHierarchies(version: 'v1' | 'all' = 'all'): string[] {
  return mounts()
    .filter((m) => m.fstype === 'cgroup' || (version === 'all' && m.fstype === 'cgroup2'))
    .map((m) => m.point);
}

/** Kills what is left in a cgroup subtree and removes it, deepest first (a cgroup goes with rmdir). */
function removeCgroup(path: string): void {
  if (!existsSync(path)) return;
  for (const entry of readdirSync(path, { withFileTypes: true })) if (entry.isDirectory()) removeCgroup(join(path, entry.name));
  try {
    for (const pid of readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
  } catch {
    // gone already
  }
  // A task SIGKILLed just now may take a moment to leave the cgroup (rmdir fails with EBUSY until then): tried
  // again for a bounded while, sleeping synchronously, since this also runs from process.on('exit').
  for (let i = 0; i < 100; i++) {
    try {
      rmdirSync(path);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EBUSY') return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  // Still busy after 5 s: the caller's leftover check reports it.
}

/** Kills processes whose command line names `path` (the components, and the shims containerd starts in sessions of their own). */
export function killByArgument(path: string): void {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(path) && Number(pid) !== process.pid) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
  }
}
