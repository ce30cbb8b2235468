/**
 * Containers, networks and grant volumes an Airlock process left behind when it died (its
 * containers exit by themselves once their stdin closes, but stay listed).
 * Only those whose owner process is gone are removed: other Airlock processes
 * on this machine keep theirs.
 */
import { hostname } from 'node:os';
import type Docker from 'dockerode';
import { LABEL_MANAGED, LABEL_OWNER } from './container.ts';

function ownerAlive(owner: string | undefined): boolean {
  // No owner: not one of ours. Airlock labels everything it creates with its
  // owner; a container someone runs by hand from a plugin image inherits the
  // image's airlock.managed label but no owner, and is theirs to keep.
  if (owner === undefined) return true;
  const slash = owner.lastIndexOf('/');
  const host = owner.slice(0, slash);
  const pid = Number(owner.slice(slash + 1));
  // Another machine's process (a shared daemon): not ours to judge.
  if (host !== hostname()) return true;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function removeOrphans(docker: Docker): Promise<{ containers: number; networks: number; volumes: number }> {
  const filters = JSON.stringify({ label: [`${LABEL_MANAGED}=true`] });
  const containers = await docker.listContainers({ all: true, filters });
  const deadContainers = containers.filter((c) => !ownerAlive(c.Labels[LABEL_OWNER]));
  await Promise.all(
    deadContainers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  const networks = await docker.listNetworks({ filters });
  const deadNetworks = networks.filter((n) => !ownerAlive(n.Labels?.[LABEL_OWNER]));
  await Promise.all(
    deadNetworks.map((n) =>
      docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined),
    ),
  );
  // Volumes holding copies of read-only grants on a remote daemon (./grant-volumes.ts).
  const volumes = ((await docker.listVolumes({ filters })) as { Volumes?: { Name: string; Labels?: Record<string, string> | null }[] }).Volumes ?? [];
  const deadVolumes = volumes.filter((v) => !ownerAlive(v.Labels?.[LABEL_OWNER]));
  await Promise.all(
    deadVolumes.map((v) =>
      docker
        .getVolume(v.Name)
        .remove()
        .catch(() => undefined),
    ),
  );
  return { containers: deadContainers.length, networks: deadNetworks.length, volumes: deadVolumes.length };
}
