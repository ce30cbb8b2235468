/**
 * Filesystem grants as bind mounts: each granted host path at its guest
 * mount, read-only unless granted read-write. Nothing else of the host is
 * mounted; the Docker socket never is, not even inside a granted folder
 * (a plugin holding it would own the host).
 *
 * The daemon opens each bind source by name, following symlinks, every time
 * a container is created (per-call isolation, a replacement after a crash,
 * a reload), long after the grants were computed. So `Source` is read
 * through a check: each time the container options are serialised for a
 * create request, the path must still resolve to itself, else the create
 * fails with `permission-denied` (./verify.ts). A window remains between
 * that check and the daemon's own open of the path; closing it needs the
 * daemon to take an fd, which the Docker API cannot.
 *
 * A bind mount has no size: a read-write one lets the plugin fill the host's
 * disk whatever resources.disk says. Docker's own limits do not reach it
 * (--storage-opt size= bounds the container's root layer only, a tmpfs or a
 * sized volume is not the granted folder, a loop-mounted image or project
 * quota needs root on the host). So a read-write grant is refused
 * (`permission-denied`) unless the host policy lists docker in
 * `unboundedWrites`, accepting unbounded writes for that engine.
 */
import type Docker from 'dockerode';
import type { DockerContribution } from '../types.ts';
import type { FilesystemGrant, Grants } from '../../grants/types.ts';
import { DOCKER_SOCKETS } from '../../grants/protected.ts';
import { trimSlashes } from '../../manifest/trim.ts';
import { CONTAINER_HOME } from '../limits/docker.ts';
import { unboundedWrite } from './unbounded.ts';
import { verifyGrantPath } from './verify.ts';

// computeGrants already refuses a grant holding one for every engine (src/grants/protected.ts); checked again here for grants built in code.
export { DOCKER_SOCKETS };

/** Guest paths the container needs for itself; a mount there would replace Airlock's files. */
const RESERVED = ['/airlock', '/proc', '/sys', '/dev', '/tmp', CONTAINER_HOME];

function covers(outer: string, inner: string): boolean {
  return outer === '/' || inner === outer || inner.startsWith(`${trimSlashes(outer)}/`);
}

export function filesystemDocker(grants: Grants): DockerContribution {
  const mounts: NonNullable<DockerContribution['mounts']> = [];
  const refuse: string[] = [];
  const deny: string[] = [];
  for (const fs of grants.filesystem) {
    if (fs.access === 'read-write' && grants.unboundedWrites?.includes('docker') !== true) {
      deny.push(unboundedWrite(grants, fs, 'Docker', 'a bind mount has no size limit'));
      continue;
    }
    const socket = DOCKER_SOCKETS.find((s) => covers(fs.hostPath, s));
    if (socket !== undefined) {
      refuse.push(`filesystem: ${fs.hostPath} contains the Docker socket ${socket}; a plugin holding it controls the host. Grant a narrower folder`);
      continue;
    }
    const reserved = RESERVED.find((r) => covers(r, fs.mount) || covers(fs.mount, r));
    if (reserved !== undefined) {
      refuse.push(`filesystem: mount ${fs.mount} overlaps ${reserved}, which the container needs for itself; mount it elsewhere (e.g. /data)`);
      continue;
    }
    mounts.push(checkedBind(fs));
  }
  return { mounts, refuse, deny };
}

/** A bind mount whose `Source` re-checks the grant every time it is read (and so every time it is sent). */
function checkedBind(grant: FilesystemGrant): Docker.MountSettings {
  const g: FilesystemGrant = Object.freeze({ ...grant });
  const mount = {
    Type: 'bind' as const,
    get Source(): string {
      verifyGrantPath(g);
      return g.hostPath;
    },
    Target: g.mount,
    ReadOnly: g.access !== 'read-write',
    // No mount made later on the host under this path shows up in the container.
    BindOptions: { Propagation: 'rprivate' as const },
  };
  return mount;
}
