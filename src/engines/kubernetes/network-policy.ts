/**
 * The NetworkPolicy objects of a plugin's network on Kubernetes (pure builders; network.ts creates them).
 *
 * - Without a network grant: one policy selects the plugin's Pods with both directions and no rule, so
 *   nothing goes in or out.
 * - With one: the plugin's Pods may open TCP to the egress proxy's Pod on its port and nothing else (no DNS
 *   either: the proxy resolves names), and the proxy's own policy admits connections from those Pods only and
 *   lets it out only on the ports the allowlist names (to the exact address for an IP literal; DNS only when
 *   the allowlist has names). Names and the per-host decision stay with the proxy: NetworkPolicy speaks
 *   addresses and ports only.
 */
import type { V1LabelSelector, V1NetworkPolicy, V1NetworkPolicyEgressRule, V1NetworkPolicyPort } from '@kubernetes/client-node';
import { canonicalIp, DEFAULT_PORTS } from '../../egress/index.ts';
import type { HostPattern } from '../../grants/types.ts';

/** The label that marks an egress proxy's Pod (its value: the proxy's id). Plugin selectors exclude it. */
export const PROXY_LABEL = 'airlock.dev/egress-proxy';
export const PROXY_PORT = 3128;

export interface PolicyNames {
  namespace: string;
  /** Labels every object carries (orphan clean-up). */
  ownerLabels: Record<string, string>;
  /** Labels of the plugin's Pods. */
  podLabels: Record<string, string>;
}

/** The plugin's Pods, never the proxy's even if its labels include the plugin's. */
export function pluginSelector(podLabels: Record<string, string>): V1LabelSelector {
  return { matchLabels: { ...podLabels }, matchExpressions: [{ key: PROXY_LABEL, operator: 'DoesNotExist' }] };
}

export function proxySelector(proxyId: string): V1LabelSelector {
  return { matchLabels: { [PROXY_LABEL]: proxyId } };
}

/** Nothing in, nothing out: both policy types listed with no rule. */
export function denyAllPolicy(name: string, n: PolicyNames): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: n.namespace, labels: { ...n.ownerLabels } },
    spec: { podSelector: pluginSelector(n.podLabels), policyTypes: ['Ingress', 'Egress'] },
  };
}

/** Nothing in; out only to the proxy's Pod on its port. */
export function pluginEgressPolicy(name: string, n: PolicyNames, proxyId: string): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: n.namespace, labels: { ...n.ownerLabels } },
    spec: {
      podSelector: pluginSelector(n.podLabels),
      policyTypes: ['Ingress', 'Egress'],
      egress: [{ to: [{ podSelector: proxySelector(proxyId) }], ports: [{ protocol: 'TCP', port: PROXY_PORT }] }],
    },
  };
}

/** In only from the plugin's Pods on the proxy port; out only on the ports the allowlist names (plus DNS for names). */
export function proxyPolicy(name: string, n: PolicyNames, proxyId: string, allow: readonly HostPattern[]): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: n.namespace, labels: { ...n.ownerLabels } },
    spec: {
      podSelector: proxySelector(proxyId),
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ _from: [{ podSelector: pluginSelector(n.podLabels) }], ports: [{ protocol: 'TCP', port: PROXY_PORT }] }],
      egress: proxyEgressRules(allow),
    },
  };
}

/**
 * An IP-literal entry: its ports to that one address. Named entries: their ports to any address (the proxy
 * checks what the name resolves to, refusing private addresses no entry names), and DNS, which the proxy
 * needs to resolve them.
 */
export function proxyEgressRules(allow: readonly HostPattern[]): V1NetworkPolicyEgressRule[] {
  const rules: V1NetworkPolicyEgressRule[] = [];
  const namedPorts = new Set<number>();
  for (const entry of allow) {
    const ports = entry.port === undefined ? DEFAULT_PORTS : [entry.port];
    const ip = entry.wildcard ? undefined : canonicalIp(entry.host);
    if (ip === undefined) {
      for (const p of ports) namedPorts.add(p);
      continue;
    }
    const cidr = ip.includes(':') ? `${ip}/128` : `${ip}/32`;
    rules.push({ to: [{ ipBlock: { cidr } }], ports: ports.map(tcp) });
  }
  if (namedPorts.size > 0) {
    rules.push({ ports: [...namedPorts].sort((a, b) => a - b).map(tcp) });
    rules.push({ ports: [{ protocol: 'UDP', port: 53 }, tcp(53)] });
  }
  return rules;
}

function tcp(port: number): V1NetworkPolicyPort {
  return { protocol: 'TCP', port };
}
