/**
 * A checked policy's relative paths resolved against its folder, and what
 * the default policy is made from: apart from ./policy.ts (the schema, zod)
 * so that the default policy, remembered by ./default-policy.ts, needs no zod.
 */
import { resolve } from 'node:path';
import type { Policy } from './policy.ts';

/** The default policy's input, as the schema parses it (and as it is remembered). */
export const DEFAULT_INPUT = '{}';
export const DEFAULT_ORIGIN = 'the default host policy';

export function resolvePolicyPaths(policy: Policy): Policy {
  const tls = policy.docker?.tls;
  const ssh = policy.docker?.ssh;
  return {
    ...policy,
    filesystem: policy.filesystem.map((f) => ({ ...f, path: resolve(policy.baseDir, f.path) })),
    ...(policy.kubernetes === undefined ? {} : { kubernetes: { ...policy.kubernetes, kubeconfig: resolve(policy.baseDir, policy.kubernetes.kubeconfig) } }),
    ...(policy.docker === undefined
      ? {}
      : {
          docker: {
            ...policy.docker,
            ...(tls === undefined
              ? {}
              : { tls: { ca: resolve(policy.baseDir, tls.ca), cert: resolve(policy.baseDir, tls.cert), key: resolve(policy.baseDir, tls.key) } }),
            ...(ssh === undefined
              ? {}
              : {
                  ssh: {
                    ...(ssh.key === undefined ? {} : { key: resolve(policy.baseDir, ssh.key) }),
                    ...(ssh.knownHosts === undefined ? {} : { knownHosts: resolve(policy.baseDir, ssh.knownHosts) }),
                  },
                }),
          },
        }),
  };
}
