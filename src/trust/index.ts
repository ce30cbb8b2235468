/** Trust what you run: digests, the lock file, signatures (and OCI distribution, ./oci/). */
export { canonicalJson, fileDigest, isDigest, outsideDigest, pluginDigest, SIGNATURE_FILE, toolDigest } from './digest.ts';
export { checkLock, formatLock, LOCK_FILE, lockEntry, readLock, toolChanges, writeLock, type LockEntry, type LockFile } from './lock.ts';
export { formatPublicKey, formatSecretKey, generateKeys, parsePublicKey, parseSecretKey, type PublicKey, type SecretKey } from './minisign.ts';
export { readPluginSignature, signPlugin, statement, verifyPlugin, type SignerRule } from './sign.ts';
export { checkTrust, signerRules, type TrustResult } from './check.ts';
