/**
 * Started detached by startCluster: waits for the test process to end and, if it ended without stopping its
 * cluster (SIGKILL, SIGINT, a crash), undoes it on the host (release.ts). A normal stop kills this first.
 * argv: <pid to watch> <HostState as JSON>.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type HostState, releaseHost } from './release.ts';

const [watched, state] = process.argv.slice(2);
const host = JSON.parse(state ?? '{}') as HostState;
const alive = (): boolean => {
  try {
    process.kill(Number(watched), 0);
    return true;
  } catch {
    return false;
  }
};
while (alive()) await sleep(1000);
releaseHost(host);
