/**
 * minisign keys and signatures (https://jedisct1.github.io/minisign/),
 * Ed25519 through node:crypto: files `minisign -V` verifies, and keys and
 * signatures minisign made that Airlock reads. Signatures are the prehashed
 * form (`ED`: Ed25519 over the BLAKE2b-512 of the message) with a trusted
 * comment (a second signature binds it); legacy `Ed` signatures verify too.
 * Secret keys are written unencrypted (minisign -W); an encrypted one is
 * refused with a hint, since Airlock asks for no passwords.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { AirlockError, type ErrorCode } from '../errors.ts';
import { blake2b } from './blake2b.ts';

const UNTRUSTED = 'untrusted comment: ';
const TRUSTED = 'trusted comment: ';

export interface PublicKey {
  /** The 8-byte key id as minisign prints it (hex of the little-endian number, upper case). */
  id: string;
  keyId: Buffer;
  key: KeyObject;
  /** The base64 line (`RW…`), as trust policies and `minisign -P` take it. */
  line: string;
}

export interface SecretKey {
  keyId: Buffer;
  key: KeyObject;
  publicKey: PublicKey;
}

export interface Signature {
  algorithm: 'Ed' | 'ED';
  keyId: Buffer;
  id: string;
  signature: Buffer;
  trustedComment: string;
  globalSignature: Buffer;
}

function bad(code: ErrorCode, message: string, hint: string): AirlockError {
  return new AirlockError(code, `${message} (fix: ${hint})`);
}

/** minisign prints key ids as the little-endian 64-bit number in hex. */
function idOf(keyId: Buffer): string {
  return Buffer.from(keyId).reverse().toString('hex').toUpperCase();
}

function decode(line: string, length: number, what: string, code: ErrorCode): Buffer {
  const text = line.trim();
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (bytes.length !== length)
    throw bad(
      code,
      `${what} is not a minisign ${what} (expected ${length} bytes of base64)`,
      'use a file written by `airlock keygen`/`airlock sign` or minisign',
    );
  return bytes;
}

function publicKeyFromRaw(keyId: Buffer, raw: Buffer): PublicKey {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  return { id: idOf(keyId), keyId, key, line: Buffer.concat([Buffer.from('Ed'), keyId, raw]).toString('base64') };
}

/** A public key: a `minisign.pub` file's text, or its base64 line alone. */
export function parsePublicKey(text: string): PublicKey {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(UNTRUSTED));
  if (lines.length !== 1) throw bad('signature-invalid', 'the public key is not one base64 line', 'give the `RW…` line of a minisign public key');
  const bytes = decode(lines[0]!, 42, 'public key', 'signature-invalid');
  if (bytes.subarray(0, 2).toString('latin1') !== 'Ed')
    throw bad('signature-invalid', 'the public key is not an Ed25519 minisign key', 'make one with `airlock keygen`');
  return publicKeyFromRaw(bytes.subarray(2, 10), bytes.subarray(10, 42));
}

export function formatPublicKey(pk: PublicKey): string {
  return `${UNTRUSTED}minisign public key ${pk.id}\n${pk.line}\n`;
}

function rawPublic(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
}

/** A new key pair (a random 8-byte key id, as minisign makes). */
export function generateKeys(): SecretKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyId = randomBytes(8);
  return { keyId, key: privateKey, publicKey: publicKeyFromRaw(keyId, rawPublic(publicKey)) };
}

/** The unencrypted minisign secret key file (`minisign -G -W` writes the same layout). */
export function formatSecretKey(sk: SecretKey): string {
  const seed = Buffer.from(sk.key.export({ format: 'jwk' }).d!, 'base64url');
  const secret = Buffer.concat([seed, rawPublic(sk.publicKey.key)]);
  const checksum = blake2b(Buffer.concat([Buffer.from('Ed'), sk.keyId, secret]), 32);
  const body = Buffer.concat([Buffer.from('Ed'), Buffer.alloc(2), Buffer.from('B2'), Buffer.alloc(32 + 8 + 8), sk.keyId, secret, checksum]);
  return `${UNTRUSTED}minisign secret key ${sk.publicKey.id} (unencrypted; keep it private)\n${body.toString('base64')}\n`;
}

export function parseSecretKey(text: string): SecretKey {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(UNTRUSTED));
  if (lines.length !== 1) throw bad('signature-invalid', 'the secret key is not one base64 line', 'give a key file written by `airlock keygen`');
  const bytes = decode(lines[0]!, 158, 'secret key', 'signature-invalid');
  if (bytes.subarray(0, 2).toString('latin1') !== 'Ed' || bytes.subarray(4, 6).toString('latin1') !== 'B2')
    throw bad('signature-invalid', 'the secret key is not an Ed25519 minisign key', 'make one with `airlock keygen`');
  if (!bytes.subarray(2, 4).equals(Buffer.alloc(2)))
    throw bad('signature-invalid', 'the secret key is encrypted with a password', 'Airlock reads unencrypted keys: `airlock keygen`, or `minisign -G -W`');
  const keyId = bytes.subarray(54, 62);
  const secret = bytes.subarray(62, 126);
  const checksum = bytes.subarray(126, 158);
  // minisign -W leaves an unencrypted key's checksum zero; a non-zero one must match.
  if (!checksum.equals(Buffer.alloc(32)) && !blake2b(Buffer.concat([Buffer.from('Ed'), keyId, secret]), 32).equals(checksum))
    throw bad('signature-invalid', "the secret key's checksum does not match (a damaged file)", 'use an intact copy of the key');
  const key = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: secret.subarray(0, 32).toString('base64url'), x: secret.subarray(32).toString('base64url') },
    format: 'jwk',
  });
  return { keyId, key, publicKey: publicKeyFromRaw(keyId, secret.subarray(32)) };
}

/** A signature file over `message` (prehashed), its trusted comment signed with it. */
export function signMessage(sk: SecretKey, message: Uint8Array, trustedComment: string): string {
  if (/[\r\n]/.test(trustedComment)) throw new AirlockError('internal', 'a trusted comment is one line');
  const signature = sign(null, createHash('blake2b512').update(message).digest(), sk.key);
  const globalSignature = sign(null, Buffer.concat([signature, Buffer.from(trustedComment)]), sk.key);
  return `${UNTRUSTED}signature from airlock secret key ${sk.publicKey.id}\n${Buffer.concat([Buffer.from('ED'), sk.keyId, signature]).toString('base64')}\n${TRUSTED}${trustedComment}\n${globalSignature.toString('base64')}\n`;
}

export function parseSignature(text: string): Signature {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const fail = (what: string): never => {
    throw bad('signature-invalid', `the signature file is malformed: ${what}`, 'sign the plugin again with `airlock sign`');
  };
  if (!lines[0]?.startsWith(UNTRUSTED)) fail('its first line is not an untrusted comment');
  const head = decode(lines[1] ?? '', 74, 'signature', 'signature-invalid');
  const algorithm = head.subarray(0, 2).toString('latin1');
  if (algorithm !== 'Ed' && algorithm !== 'ED') fail(`unknown algorithm ${JSON.stringify(algorithm)}`);
  if (!lines[2]?.startsWith(TRUSTED)) fail('its third line is not a trusted comment');
  const globalSignature = decode(lines[3] ?? '', 64, 'global signature', 'signature-invalid');
  const keyId = head.subarray(2, 10);
  return {
    algorithm: algorithm as 'Ed' | 'ED',
    keyId,
    id: idOf(keyId),
    signature: head.subarray(10, 74),
    trustedComment: lines[2]!.slice(TRUSTED.length),
    globalSignature,
  };
}

/** True when `sig` is `pk`'s signature of `message` and of its trusted comment. */
export function verifySignature(pk: PublicKey, message: Uint8Array, sig: Signature): boolean {
  if (!pk.keyId.equals(sig.keyId)) return false;
  const signed = sig.algorithm === 'ED' ? createHash('blake2b512').update(message).digest() : message;
  if (!verify(null, signed, pk.key, sig.signature)) return false;
  return verify(null, Buffer.concat([sig.signature, Buffer.from(sig.trustedComment)]), pk.key, sig.globalSignature);
}
