/**
 * Env for Docker: only the granted names, with the host's values. The image
 * sets nothing secret; Airlock's own settings for the in-container host are
 * removed from the environment before the plugin loads.
 */
import type { DockerContribution } from '../types.ts';
import type { Grants } from '../../grants/types.ts';
import { processEnvRefusal } from './process-env.ts';

/** Names Airlock sets itself in every container; a grant may not override them. */
const RESERVED = /^(AIRLOCK_|HTTPS?_PROXY$|NO_PROXY$|NODE_USE_ENV_PROXY$)/i;

export function envDocker(grants: Grants): DockerContribution {
  const env = Object.create(null) as Record<string, string>; // `__proto__` is a name like any other
  const refuse: string[] = [];
  for (const [name, value] of Object.entries(grants.env)) {
    const refusal = processEnvRefusal(name, value);
    if (refusal !== undefined) {
      refuse.push(refusal);
      continue;
    }
    if (RESERVED.test(name)) {
      refuse.push(`env: ${name} is set by Airlock inside the container; rename the variable`);
      continue;
    }
    env[name] = value;
  }
  return { env, refuse };
}
