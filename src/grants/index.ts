export type { Grants, FilesystemGrant, NetworkGrant, HostPattern, ResourceGrants } from './types.ts';
export { computeGrants, isInside } from './grant.ts';
export type { GrantOptions } from './grant.ts';
export { policySchema, defaultPolicy, loadPolicy, policyFromObject } from './policy.ts';
export type { Policy, PolicyInput } from './policy.ts';
