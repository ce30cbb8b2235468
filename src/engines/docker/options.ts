/**
 * Container options from the Grants. Each capability maps its own grant
 * (src/capabilities/<cap>/docker.ts); this file only composes them and
 * collects refusals. A grant Docker cannot express exactly is refused, never
 * widened. What is not a grant (the hardening every container gets whatever
 * it was granted) lives in HARDENING below, in one place.
 */
import type Docker from 'dockerode';
import { CAPABILITIES, CONTAINER_UID, type Capability, type DockerHostConfig } from '../../capabilities/index.ts';
import type { FilesystemGrant, Grants, HostPattern } from '../../grants/types.ts';

export type { DockerContribution as DockerOptions, DockerHostConfig } from '../../capabilities/index.ts';

export interface DockerRunSpec {
  hostConfig: DockerHostConfig;
  env: Record<string, string>;
  egress: HostPattern[] | undefined;
  refusals: string[];
  denials: string[];
  /** On a remote daemon: the read-only grants the engine copies into volumes (./grant-volumes.ts) instead of binding. */
  copies: FilesystemGrant[];
}

/** The in-container user: not root, and not any user of the image or the host (the image adds its passwd entry). */
export const CONTAINER_USER = `${CONTAINER_UID}:${CONTAINER_UID}`;

/**
 * Hardening every plugin container gets, whatever it was granted (OWASP Docker
 * cheat sheet, CIS Docker Benchmark section 5). The default seccomp and
 * AppArmor profiles stay in place: nothing here sets `seccomp=unconfined`.
 */
export const HARDENING: Partial<DockerHostConfig> = {
  Init: true,
  ReadonlyRootfs: true,
  CapDrop: ['ALL'],
  SecurityOpt: ['no-new-privileges:true'],
  Privileged: false,
  IpcMode: 'private',
  // Docker would keep every byte a plugin prints on disk; calls carry their own bounded logs.
  LogConfig: { Type: 'none', Config: {} },
  RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
  // Writable /dev/shm is another tmpfs; keep it tiny.
  ShmSize: 4 * 1024 * 1024,
};

/** Where the daemon is, as far as the container options care: `remote` is true when it does not share this machine's files. */
export interface DaemonPlace {
  remote: boolean;
  /** How messages name it. */
  where: string;
}

const LOCAL: DaemonPlace = { remote: false, where: 'the local socket' };

/**
 * Why a read-write grant cannot run on a remote daemon: a bind mount names a path on the daemon's machine,
 * so the plugin would get whatever that machine has there (or nothing), not the granted folder; and a copy
 * (what read-only grants get) would keep the plugin's writes on the daemon's machine.
 */
function remoteReadWrite(fs: FilesystemGrant, daemon: DaemonPlace): string {
  return `filesystem: ${fs.hostPath} (granted read-write at ${fs.mount}) is a folder of this machine, and the Docker daemon at ${daemon.where} is remote: a bind mount there would name a path on the daemon's machine, and a copy would keep the plugin's writes there. Run this plugin on a local daemon (unset DOCKER_HOST or the host policy's docker.host), or make the grant read-only (copied to the daemon at load)`;
}

/** The whole container configuration for these grants, on a local daemon unless `daemon` says otherwise. Pure. */
export function dockerRunSpec(grants: Grants, capabilities: readonly Capability[] = CAPABILITIES, daemon: DaemonPlace = LOCAL): DockerRunSpec {
  const hostConfig: DockerHostConfig = { ...HARDENING };
  const owner = new Map<string, string>(Object.keys(HARDENING).map((k) => [k, 'hardening']));
  const env = Object.create(null) as Record<string, string>; // env names are data: `__proto__` is a name like any other
  const mounts: Docker.MountSettings[] = [];
  const refusals: string[] = [];
  const denials: string[] = [];
  let egress: HostPattern[] | undefined;
  for (const cap of capabilities) {
    if (cap.docker === undefined) {
      refusals.push(`capability ${cap.name} has no Docker mapping`);
      continue;
    }
    const part = cap.docker.call(cap, grants);
    for (const [key, value] of Object.entries(part.hostConfig ?? {})) {
      const prev = owner.get(key);
      if (prev !== undefined) throw new Error(`HostConfig.${key} is set by both ${prev} and ${cap.name}`);
      owner.set(key, cap.name);
      (hostConfig as Record<string, unknown>)[key] = value;
    }
    mounts.push(...(part.mounts ?? []));
    Object.assign(env, part.env ?? {});
    if (part.egress !== undefined) egress = [...(egress ?? []), ...part.egress];
    refusals.push(...(part.refuse ?? []));
    denials.push(...(part.deny ?? []));
  }
  const copies: FilesystemGrant[] = [];
  if (daemon.remote) {
    // No host path goes to a remote daemon: the filesystem capability's binds are dropped; read-only grants
    // are copied into volumes there by the engine, read-write ones refused.
    mounts.length = 0;
    for (const fs of grants.filesystem) {
      if (fs.access === 'read') copies.push(fs);
      else refusals.push(remoteReadWrite(fs, daemon));
    }
  }
  if (mounts.length > 0) hostConfig.Mounts = mounts;
  return { hostConfig, env, egress, refusals, denials, copies };
}
