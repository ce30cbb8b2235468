/**
 * Filesystem grants as bind mounts: each granted host path at its guest
 * mount, read-only unless granted read-write. Nothing else of the host is
 * mounted; the Docker socket never is, not even inside a granted folder
 * (a plugin holding it would own the host).
 */
import type { DockerOptions } from '../../engines/docker/options.ts';
import type { Grants } from '../../grants/types.ts';

/** Where Docker daemons listen by default; a bind covering one of these is refused. */
export const DOCKER_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock'];

/** Guest paths the container needs for itself; a mount there would replace Airlock's files. */
const RESERVED = ['/airlock', '/proc', '/sys', '/dev', '/tmp'];

function covers(outer: string, inner: string): boolean {
  return outer === '/' || inner === outer || inner.startsWith(`${outer.replace(/\/+$/, '')}/`);
}

export function filesystemDocker(grants: Grants): DockerOptions {
  const mounts: NonNullable<DockerOptions['mounts']> = [];
  const refuse: string[] = [];
  for (const fs of grants.filesystem) {
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
    mounts.push({
      Type: 'bind',
      Source: fs.hostPath,
      Target: fs.mount,
      ReadOnly: fs.access !== 'read-write',
      // No mount made later on the host under this path shows up in the container.
      BindOptions: { Propagation: 'rprivate' },
    });
  }
  return { mounts, refuse };
}
