/**
 * Container options from the Grants. Each capability maps its own grant
 * (src/capabilities/<cap>/docker.ts); this file only composes them and
 * collects refusals. A grant Docker cannot express exactly is refused, never
 * widened. What is not a grant (the hardening every container gets whatever
 * it was granted) lives in HARDENING below, in one place.
 */
import type Docker from 'dockerode';
import { CAPABILITIES } from '../../capabilities/index.ts';
import type { Capability } from '../../capabilities/types.ts';
import type { Grants, HostPattern } from '../../grants/types.ts';

/** The fields of Docker's HostConfig a capability may set. */
export type DockerHostConfig = Docker.HostConfig;

/** What one capability contributes to a container. */
export type DockerOptions = {
  /** HostConfig fields; two capabilities setting the same field is a bug (composition throws). */
  hostConfig?: Partial<DockerHostConfig>;
  /** Bind mounts (only granted paths). */
  mounts?: Docker.MountSettings[];
  /** Environment of the container's process. */
  env?: Record<string, string>;
  /**
   * Outgoing connections allowed only to these: the engine puts the container
   * on an internal network whose only way out is its egress proxy.
   */
  egress?: HostPattern[];
  /** Why Docker cannot express this grant exactly; any refusal means the engine refuses the plugin. */
  refuse?: string[];
  /**
   * Grants Docker could mount but not bound as granted, which the host policy
   * has not accepted unbounded: the engine refuses the plugin with
   * `permission-denied` (no other engine runs node/python, so it is the
   * policy owner's call, not an engine to fall back from).
   */
  deny?: string[];
};

export interface DockerRunSpec {
  hostConfig: DockerHostConfig;
  env: Record<string, string>;
  egress: HostPattern[] | undefined;
  refusals: string[];
  denials: string[];
}

/** The in-container user: not root, and not any user of the image or the host. */
export const CONTAINER_USER = '10001:10001';

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

export interface DockerCapability {
  readonly name: string;
  docker?(grants: Grants): DockerOptions;
}

/** Each shared capability with its Docker mapping; one without any refuses (no silent Docker default). */
export function fromCapabilities(capabilities: readonly Capability[]): DockerCapability[] {
  return capabilities.map((cap) => {
    const own = cap.docker;
    return own === undefined ? { name: cap.name } : { name: cap.name, docker: (g: Grants) => own.call(cap, g) as DockerOptions };
  });
}

export const DOCKER_CAPABILITIES: readonly DockerCapability[] = fromCapabilities(CAPABILITIES);

/** The whole container configuration for these grants. Pure. */
export function dockerRunSpec(grants: Grants, capabilities: readonly DockerCapability[] = DOCKER_CAPABILITIES): DockerRunSpec {
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
    const part = cap.docker(grants);
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
