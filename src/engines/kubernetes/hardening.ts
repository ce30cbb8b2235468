/**
 * The hardening every Airlock Pod gets, the plugin's (./pod-spec.ts) and its
 * egress proxy's (./egress-pod.ts), from one place. Pure.
 */
import type { V1PodSpec, V1SecurityContext } from '@kubernetes/client-node';
import { CONTAINER_UID } from '../../capabilities/index.ts';

/** Non-root as Airlock's containers are everywhere, seccomp RuntimeDefault. */
const user = () => ({ runAsNonRoot: true, runAsUser: CONTAINER_UID, runAsGroup: CONTAINER_UID, seccompProfile: { type: 'RuntimeDefault' } });

/**
 * What every Airlock Pod's spec holds (the plugin's and its egress proxy's): no service-account token, no
 * service links, no host namespaces, never restarted behind the engine's back (an end is reported), non-root
 * with seccomp RuntimeDefault, and the pause container as PID 1, as Docker's init is (HARDENING.Init): it
 * reaps orphaned processes, and neither the plugin's host nor the proxy is an init, whose default-action
 * signals the kernel drops (an abort() would end as SIGSEGV, a deletion's SIGTERM be ignored).
 */
export function hardenedPodSpec(): Omit<V1PodSpec, 'containers'> {
  return {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    hostNetwork: false,
    hostPID: false,
    hostIPC: false,
    shareProcessNamespace: true,
    securityContext: user(),
  };
}

/** Every Airlock container's own security context: read-only root, every capability dropped, no privilege escalation. */
export function hardenedContainerSecurity(): V1SecurityContext {
  return { ...user(), readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'] } };
}
