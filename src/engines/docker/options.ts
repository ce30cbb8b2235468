/**
 * Container options from the Grants. Each capability maps its own grant
 * (src/capabilities/<cap>/docker.ts); this file only composes them and
 * collects refusals. A grant Docker cannot express exactly is refused, never
 * widened. What is not a grant (the hardening every container gets whatever
 * it was granted) lives in HARDENING below, in one place.
 */
import type Docker from 'dockerode';
import { CAPABILITIES, CONTAINER_UID, type Capability, type DockerHostConfig } from '../../capabilities/index.ts';
import type { Grants, HostPattern } from '../../grants/types.ts';

export type { DockerContribution as DockerOptions, DockerHostConfig } from '../../capabilities/index.ts';

export interface DockerRunSpec {
  hostConfig: DockerHostConfig;
  env: Record<string, string>;
  egress: HostPattern[] | undefined;
  refusals: string[];
  denials: string[];
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

/** The whole container configuration for these grants. Pure. */
export function dockerRunSpec(grants: Grants, capabilities: readonly Capability[] = CAPABILITIES): DockerRunSpec {
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
  if (mounts.length > 0) hostConfig.Mounts = mounts;
  return { hostConfig, env, egress, refusals, denials };
}
