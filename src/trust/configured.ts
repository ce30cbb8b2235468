/**
 * Whether a host has any trust check to run: a lock file, or a trust policy
 * that asks for signatures. A module of its own (no crypto, no schema), so a
 * host with neither does not load the check's code (./check.ts: minisign,
 * digests) on its loads (issue 21).
 */
import type { Policy } from '../grants/index.ts';
import type { LockFile } from './lock.ts';

/** The trust policy's signature rules, when it has any. */
export function signaturesRequired(policy: Policy): boolean {
  const trust = policy.trust;
  return trust !== undefined && (trust.requireSignatures || trust.signers.length > 0);
}

export function trustConfigured(policy: Policy, lock: LockFile | undefined): boolean {
  return lock !== undefined || signaturesRequired(policy);
}
