/**
 * Warming a plugin's engine before a host even loads it: `airlock call`
 * starts the worker thread its one load will adopt while it loads the host
 * (issue 21). Only from a manifest whose check is remembered (no checker and
 * no worker: a bounded read, a hash and a few stats, ../manifest/load.ts
 * recalledPlugin) and grants the policy gives; anything else starts nothing,
 * and the host's own load warms the engine as usual (../host/loaded.ts).
 */
import type { Policy } from '../grants/index.ts';
import { computeGrants } from '../grants/grant.ts';
import { recalledPlugin } from '../manifest/load.ts';
import { type EnginePreference, warmEngine } from './index.ts';

export function warmPlugin(dir: string, policy: Policy, preference: EnginePreference): void {
  try {
    const read = recalledPlugin(dir);
    if (read?.ok === true) warmEngine(computeGrants(read.plugin, policy), preference);
  } catch {
    // A hint: the load reports whatever is wrong with the plugin.
  }
}
