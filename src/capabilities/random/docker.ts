/**
 * Random for Docker: a container reads the kernel's generator (getrandom,
 * /dev/urandom) directly. Unlike the worker engine's shim, where every byte
 * costs host CPU and is budgeted per call, drawing randomness in a container
 * spends only the container's own CPU share (limits capability), so there is
 * nothing to configure.
 */
import type { DockerContribution } from '../types.ts';
import type { Grants } from '../../grants/types.ts';

export function randomDocker(_grants: Grants): DockerContribution {
  return {};
}
