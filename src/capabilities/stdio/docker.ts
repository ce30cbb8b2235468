/**
 * Stdio for Docker: the in-container host captures what the plugin prints
 * per call and cuts it at the log limit before it leaves the container; the
 * engine cuts again on its side. Stdin belongs to the protocol.
 */
import type { DockerContribution } from '../types.ts';
import type { Grants } from '../../grants/types.ts';

export function stdioDocker(grants: Grants): DockerContribution {
  return { env: { AIRLOCK_LOG_BYTES: String(Math.max(0, Math.floor(grants.resources.logBytes))) } };
}
