export type { Grants, FilesystemGrant, NetworkGrant, HostPattern, ResourceGrants } from './types.ts';
export { computeGrants } from './grant.ts';
export { isInside } from '../plugin-files/inside.ts';
export type { GrantOptions } from './grant.ts';
export { policySchema, defaultPolicy, loadPolicy, policyFromObject } from './policy.ts';
export type { Policy, PolicyInput } from './policy.ts';
