/**
 * Egress proxy for plugins granted network access to certain hosts, below
 * both capabilities and engines (it imports neither). A Docker plugin's
 * container sits on an internal network with no route out; this proxy (on
 * that network and on a bridge, src/engines/docker/network.ts) is its only
 * way out. The worker engine's wasi:http goes through one on loopback
 * (src/capabilities/network/route.ts). It speaks HTTP proxy requests (`GET http://host/path`) and CONNECT tunnels,
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
 * main.ts (config from argv or AIRLOCK_EGRESS_CONFIG, JSON-line log on stdout;
 * src/engines/docker/egress-files.ts says what to mount).
 *
 * Parts: policy.ts (the rules, pure), dial.ts (check, resolve once, check the
 * addresses, connect), tunnel.ts (CONNECT), forward.ts (absolute-form HTTP),
 * answer.ts (the proxy's own refusals), server.ts (listener, limits, close).
 * Everything main.ts imports at run time stays inside this folder (plus
 * node: builtins and ipaddr.js): the folder is mounted alone in a container.
 */
export { startEgressProxy } from './server.ts';
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
export { DEFAULT_PORTS, addressRange, canonicalIp, checkAddresses, checkTarget, compileRules, parseAuthority } from './policy.ts';
export type { PolicyRefusal, Rule, Target } from './policy.ts';
export { parseEgressConfig, EGRESS_CONFIG_ENV } from './config.ts';
export { proxyEnv } from './env.ts';
export type { EgressConfig } from './config.ts';
