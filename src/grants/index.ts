export type { Grants, EngineSettings, FilesystemGrant, NetworkGrant, HostPattern, ResourceGrants } from './types.ts';
export { computeGrants, engineSettings } from './grant.ts';
export { isInside } from '../plugin-files/inside.ts';
export type { GrantOptions } from './grant.ts';
export { policySchema, loadPolicy, policyFromObject } from './policy.ts';
export { defaultPolicy } from './default-policy.ts';
export type { Policy, PolicyInput } from './policy.ts';
