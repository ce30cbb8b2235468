/**
 * Host paths no plugin may be granted, whatever the host policy says, on any
 * engine: each holds something a plugin could use to take over the host.
 * - Airlock's cache: transpiled glue the host imports into workers,
 *   precompiled native `.cwasm`, the wasmtime binary. Rewriting one runs
 *   code in the host on the next load.
 * - Airlock's own package: its source, the in-container runtimes, the WIT
 *   files and its dependencies (its own node_modules, or the node_modules it
 *   is installed in).
 * - A Docker daemon socket: whoever can connect to it owns the host (even a
 *   read-only mount: connecting to a socket is not a write to the mount).
 * - The other host-control sockets and data roots (HOST_CONTROL): those of
 *   Docker, containerd, CRI-O, Podman and the kubelet (a socket, an image
 *   layer or a kubelet credential each lead to root on the host), and /proc,
 *   /sys and /dev (kernel and device interfaces). The host root itself.
 * A grant overlaps one when it contains it (or is it) or lies inside it.
 */
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from '../paths.ts';
import { isInside } from '../plugin-files/inside.ts';

/** Where Docker daemons listen by default. */
export const DOCKER_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock'];

/**
 * Host-control sockets and data roots, by owner: a grant may neither contain
 * nor lie inside one. Paths under /var/run are listed with their /run twin
 * (most systems link one to the other; the canonical form is added too).
 * `runtime`: relative to $XDG_RUNTIME_DIR (rootless daemons); `home`: to $HOME.
 */
export const HOST_CONTROL: ReadonlyArray<{ what: string; paths?: string[]; runtime?: string[]; home?: string[] }> = [
  {
    what: "Docker's state (images, containers, volumes, config)",
    paths: ['/var/lib/docker', '/run/docker', '/var/run/docker', '/etc/docker'],
    runtime: ['docker.sock', 'docker'],
    home: ['.local/share/docker'],
  },
  { what: "containerd's socket folder or state", paths: ['/run/containerd', '/var/run/containerd', '/var/lib/containerd'] },
  { what: "CRI-O's socket folder or state", paths: ['/run/crio', '/var/run/crio', '/var/lib/crio'] },
  {
    what: "Podman's (and CRI-O's) sockets or container storage",
    paths: ['/run/podman', '/var/run/podman', '/var/lib/containers', '/run/containers', '/var/run/containers'],
    runtime: ['podman', 'containers'],
    home: ['.local/share/containers'],
  },
  { what: "the kubelet's state or the cluster's credentials", paths: ['/var/lib/kubelet', '/etc/kubernetes', '/run/kubernetes', '/var/run/kubernetes'] },
  { what: 'the kernel and device interfaces', paths: ['/proc', '/sys', '/dev'] },
];

/** The Airlock package's root (this file is <root>/src/grants or <root>/dist/grants). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/+$/, '');

/** What in the package is code the host or its containers run. */
const PACKAGE_CODE = ['src', 'dist', 'runtimes', 'wit', 'node_modules', 'package.json'];

export interface ProtectedPath {
  /** Canonical where it exists, else as written. */
  path: string;
  /** What it is, for messages. */
  what: string;
  /** How a grant may overlap it: `contains` = the grant may not contain it; `both` = nor lie inside it. */
  refuse: 'contains' | 'both';
  /** How to fix a grant that overlaps it. */
  hint: string;
}

/** The protected paths as of now (the cache root, DOCKER_HOST, XDG_RUNTIME_DIR and HOME are read from the environment). */
export function protectedPaths(env: Record<string, string | undefined> = process.env): ProtectedPath[] {
  const out: ProtectedPath[] = [];
  const seen = new Set<string>();
  const add = (path: string, p: Omit<ProtectedPath, 'path'>): void => {
    for (const variant of [path, canonical(path)]) {
      if (seen.has(variant)) continue;
      seen.add(variant);
      out.push({ path: variant, ...p });
    }
  };
  // First, so granting `/` says what it is rather than the first thing it contains.
  add('/', { what: 'the host root filesystem', refuse: 'contains', hint: 'grant the folders the plugin needs, not the whole host' });
  add(cacheRoot(), {
    what: "Airlock's cache (code the host runs)",
    refuse: 'both',
    hint: 'grant a folder that neither contains nor lies inside the cache, or move the cache (AIRLOCK_CACHE_DIR) out of the folder you want to grant',
  });
  add(PACKAGE_ROOT, { what: "Airlock's own package", refuse: 'contains', hint: "grant a narrower folder that does not contain Airlock's package" });
  for (const entry of PACKAGE_CODE) {
    add(join(PACKAGE_ROOT, entry), { what: `Airlock's own ${entry}`, refuse: 'both', hint: "grant a folder outside Airlock's package" });
  }
  // Installed as a dependency, Airlock's own dependencies sit beside it in the enclosing node_modules.
  const deps = enclosingNodeModules(PACKAGE_ROOT);
  if (deps !== undefined)
    add(deps, { what: "the node_modules folder Airlock's dependencies are installed in", refuse: 'both', hint: 'grant a folder outside node_modules' });
  const sockets = [...DOCKER_SOCKETS];
  const host = env.DOCKER_HOST;
  if (host?.startsWith('unix://') === true && host.length > 'unix://'.length) sockets.push(host.slice('unix://'.length));
  for (const s of sockets)
    add(s, {
      what: 'a Docker daemon socket (whoever reaches it owns the host)',
      refuse: 'both',
      hint: 'grant a narrower folder that does not hold the Docker socket',
    });
  const runtimeDir = env.XDG_RUNTIME_DIR ?? '';
  const home = env.HOME ?? homedir();
  for (const c of HOST_CONTROL) {
    const paths = [
      ...(c.paths ?? []),
      // An unset or relative $XDG_RUNTIME_DIR or $HOME names nothing.
      ...(runtimeDir.startsWith('/') ? (c.runtime ?? []).map((r) => join(runtimeDir, r)) : []),
      ...(home.startsWith('/') ? (c.home ?? []).map((h) => join(home, h)) : []),
    ];
    for (const path of paths) add(path, { what: c.what, refuse: 'both', hint: 'grant a folder that neither contains nor lies inside it' });
  }
  return out;
}

/** The first protected path a canonical host path overlaps, and how (`is`, `contains`, `is inside`), or undefined. Pure. */
export function protectedOverlap(path: string, list: readonly ProtectedPath[]): { guarded: ProtectedPath; how: 'is' | 'contains' | 'is inside' } | undefined {
  const guarded = list.find((p) => isInside(path, p.path) || (p.refuse === 'both' && isInside(p.path, path)));
  if (guarded === undefined) return undefined;
  return { guarded, how: isInside(path, guarded.path) ? (path === guarded.path ? 'is' : 'contains') : 'is inside' };
}

/** The outermost node_modules folder above `path` (dependencies may be hoisted up to it). */
export function enclosingNodeModules(path: string): string | undefined {
  const parts = path.split('/');
  const at = parts.indexOf('node_modules');
  return at > 0 ? parts.slice(0, at + 1).join('/') : undefined;
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
