/**
 * Egress proxy for Docker-run plugins granted network access to certain
 * hosts. The plugin's container sits on an internal network with no route
 * out; this proxy (on that network and on a bridge) is its only way out. It
 * speaks HTTP proxy requests (`GET http://host/path`) and CONNECT tunnels,
 * admits only the allowlisted host:port, resolves each name once, refuses
 * non-public addresses unless a grant names them, and reports every decision.
 * The rules are spelled out in policy.ts; in short:
 *
 * - `api.example.com` (no port) admits ports 80 and 443 only, not every port:
 *   a CONNECT tunnel carries any protocol, so other ports must be named.
 * - `*.example.com` admits subdomains at any depth, not `example.com`.
 * - IP-literal targets and non-public resolved addresses (private, loopback,
 *   link-local, unique-local, CGNAT, multicast, IPv4 embedded in IPv6, ...)
 *   pass only when an entry names that exact address.
 *
 * Run in-process with startEgressProxy(), or standalone in a container with
 * main.ts (config from argv or AIRLOCK_EGRESS_CONFIG, JSON-line log on stdout).
 */
export { startEgressProxy } from './proxy.ts';
export { DEFAULT_LIMITS } from './types.ts';
export type {
  EgressAllowed,
  EgressDecision,
  EgressFailed,
  EgressFailureCode,
  EgressKind,
  EgressLimits,
  EgressProxy,
  EgressProxyOptions,
  EgressRefusalCode,
  EgressRefused,
  Resolver,
} from './types.ts';
export { DEFAULT_PORTS, addressRange, checkAddresses, checkTarget, compileRules, parseAuthority } from './policy.ts';
export type { PolicyRefusal, Rule, Target } from './policy.ts';
export { parseEgressConfig, EGRESS_CONFIG_ENV } from './config.ts';
export type { EgressConfig } from './config.ts';
export { egressRuntimeFiles } from './files.ts';
export type { EgressRuntimeFile } from './files.ts';
