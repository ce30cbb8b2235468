/**
 * The trust check a host runs on every plugin it loads, after its manifest
 * is read and before anything is built or started: the lock file's pins
 * (lock.ts) and the trust policy's signatures (sign.ts). Costs nothing when
 * neither is configured; otherwise one bounded walk of the folder (the digest).
 */
import type { Policy } from '../grants/index.ts';
import type { LoadedManifest } from '../manifest/index.ts';
import { compileGlob, matchGlob } from '../plugin-files/index.ts';
import { pluginDigest } from './digest.ts';
import type { LockFile } from './lock.ts';
import { parsePublicKey } from './minisign.ts';
import { verifyPlugin, type SignerRule } from './sign.ts';
import { signaturesRequired } from './configured.ts';

export interface TrustResult {
  digest: string;
  /** The key id that signed it, when the trust policy checked a signature. */
  signer?: string;
}

/** The trust policy's signers, their keys parsed and name globs compiled. */
export function signerRules(trust: NonNullable<Policy['trust']>): SignerRule[] {
  return trust.signers.map((s) => {
    const globs = s.plugins.map(compileGlob);
    return { key: parsePublicKey(s.key), allows: (name: string) => globs.some((g) => matchGlob(g, name)) };
  });
}

/** Throws lock-mismatch, signature-missing, signature-invalid or untrusted-signer; undefined when nothing is configured. */
export async function checkTrust(plugin: LoadedManifest, policy: Policy, lock: LockFile | undefined): Promise<TrustResult | undefined> {
  const trust = policy.trust;
  const signatures = signaturesRequired(policy);
  if (lock === undefined && !signatures) return undefined;
  const digest = await pluginDigest(plugin.dir);
  // Loaded here: lock.ts holds the lock file's schema (zod), which a host without a lock never needs.
  if (lock !== undefined) (await import('./lock.ts')).checkLock(lock, plugin, digest);
  if (!signatures || trust === undefined) return { digest };
  const signer = await verifyPlugin(plugin, digest, signerRules(trust), trust.requireSignatures);
  return signer === undefined ? { digest } : { digest, signer };
}
