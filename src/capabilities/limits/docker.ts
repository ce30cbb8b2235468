/**
 * resources.* for Docker: memory with equal swap (no swapping past the cap),
 * CPU as NanoCpus, a pids cgroup limit and ulimits against fork and fd
 * exhaustion, a size-limited noexec /tmp on the read-only root, and the same
 * for the plugin user's home (the image gives uid CONTAINER_UID a passwd
 * entry with that home, src/engines/docker/build.ts). The output
 * limit travels to the in-container host, which refuses a larger result;
 * timeouts, queue and concurrency are enforced by the engine.
 */
import type { DockerContribution } from '../types.ts';
import type { Grants } from '../../grants/types.ts';

/** Processes and threads per container (Node alone runs ~11 threads). */
export const DOCKER_PIDS_LIMIT = 128;
/** Open files per process. */
export const DOCKER_NOFILE = 1024;
/**
 * RLIMIT_NPROC counts every process of the container's uid on the whole host
 * (all plugin containers share it), so it is a backstop above the per-container pids limit.
 */
export const DOCKER_NPROC = 4096;
/** The in-container user (uid = gid): not root, and not any user of the image or the host. */
export const CONTAINER_UID = 10001;
/** Its home, a tmpfs at run time: user look-ups and `~` work while the root stays read-only. */
export const CONTAINER_HOME = '/home/airlock';
/** Docker refuses less than 6 MiB. */
const MIN_MEMORY = 6 * 1024 * 1024;

export function limitsDocker(grants: Grants): DockerContribution {
  const r = grants.resources;
  const memory = Math.max(MIN_MEMORY, Math.floor(r.memoryBytes));
  // /tmp and the home count against the memory cgroup; a quarter of the memory each, at least 1 MiB.
  const tmpBytes = Math.max(1024 * 1024, Math.floor(memory / 4));
  const home = `rw,noexec,nosuid,nodev,size=${tmpBytes},uid=${CONTAINER_UID},gid=${CONTAINER_UID},mode=0700`;
  return {
    hostConfig: {
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.max(1, Math.round(r.cpu * 1e9)),
      PidsLimit: DOCKER_PIDS_LIMIT,
      Ulimits: [
        { Name: 'nofile', Soft: DOCKER_NOFILE, Hard: DOCKER_NOFILE },
        { Name: 'nproc', Soft: DOCKER_NPROC, Hard: DOCKER_NPROC },
      ],
      Tmpfs: { '/tmp': `rw,noexec,nosuid,nodev,size=${tmpBytes}`, [CONTAINER_HOME]: home },
    },
    env: { AIRLOCK_OUTPUT_BYTES: String(Math.max(0, Math.floor(r.outputBytes))) },
  };
}
