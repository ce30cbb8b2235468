/**
 * Plugin signatures: a minisign signature (minisign.ts) over a statement
 * binding the plugin's name, version and digest, kept in its folder as
 * `airlock.minisig` (outside the digest it signs). The statement is also the
 * signature's trusted comment, so `minisign -V` shows what was signed.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockError } from '../errors.ts';
import type { LoadedManifest } from '../manifest/index.ts';
import { pluginDigest, SIGNATURE_FILE } from './digest.ts';
import { parseSignature, signMessage, verifySignature, type PublicKey, type SecretKey, type Signature } from './minisign.ts';
import { readSmallFile } from './read.ts';

const MAX_SIGNATURE_BYTES = 16 * 1024;

/** What a signature signs: one line, the same bytes on every machine. */
export function statement(name: string, version: string, digest: string): string {
  return `airlock-plugin/v1 name=${name} version=${version} digest=${digest}`;
}

/** Signs the plugin as it is now; writes and returns `<dir>/airlock.minisig`. */
export async function signPlugin(plugin: LoadedManifest, key: SecretKey): Promise<{ file: string; digest: string }> {
  const digest = await pluginDigest(plugin.dir);
  const text = statement(plugin.manifest.name, plugin.manifest.version, digest);
  const file = join(plugin.dir, SIGNATURE_FILE);
  await writeFile(file, signMessage(key, Buffer.from(text), text));
  return { file, digest };
}

/** The plugin's signature file, parsed; undefined when it has none. */
export async function readPluginSignature(dir: string): Promise<Signature | undefined> {
  const text = await readSmallFile(join(dir, SIGNATURE_FILE), MAX_SIGNATURE_BYTES, 'signature-invalid', 'signature', true);
  return text === undefined ? undefined : parseSignature(text);
}

export interface SignerRule {
  key: PublicKey;
  /** Plugin names (globs) this key may sign; undefined: any. */
  allows: (name: string) => boolean;
}

/**
 * Checks a plugin's signature against the signers: signature-missing (none,
 * when required), untrusted-signer (a key not listed, or not for this name),
 * signature-invalid (does not verify for this name, version and digest).
 * Returns the signer's key id, or undefined when unsigned and not required.
 */
export async function verifyPlugin(plugin: LoadedManifest, digest: string, signers: SignerRule[], required: boolean): Promise<string | undefined> {
  const name = plugin.manifest.name;
  const sig = await readPluginSignature(plugin.dir);
  const details = { plugin: name, digest };
  if (sig === undefined) {
    if (!required) return undefined;
    throw new AirlockError(
      'signature-missing',
      `plugin "${name}" (${plugin.dir}) has no signature (${SIGNATURE_FILE}) and the trust policy requires one; have its publisher sign it (\`airlock sign\`), or sign it yourself after review`,
      { details },
    );
  }
  const candidates = signers.filter((s) => s.key.keyId.equals(sig.keyId));
  if (candidates.length === 0) {
    throw new AirlockError(
      'untrusted-signer',
      `plugin "${name}" is signed by key ${sig.id}, which the trust policy does not list; add its public key to trust.signers after checking whose it is, or remove the plugin`,
      {
        details: { ...details, signer: sig.id },
      },
    );
  }
  const wanted = statement(name, plugin.manifest.version, digest);
  const verified = candidates.filter((s) => verifySignature(s.key, Buffer.from(wanted), sig));
  if (verified.length === 0) {
    throw new AirlockError(
      'signature-invalid',
      `plugin "${name}": the signature by key ${sig.id} does not verify for ${wanted.slice(wanted.indexOf(' ') + 1)} (it claims: ${JSON.stringify(sig.trustedComment.slice(0, 300))}): the files changed after signing, or the signature is another plugin's; get a signed copy, or review and sign it again`,
      { details: { ...details, signer: sig.id } },
    );
  }
  if (!verified.some((s) => s.allows(name))) {
    throw new AirlockError(
      'untrusted-signer',
      `plugin "${name}" is signed by key ${sig.id}, which the trust policy allows only for other plugin names; widen that signer's plugins only if it publishes this one`,
      {
        details: { ...details, signer: sig.id },
      },
    );
  }
  return sig.id;
}
