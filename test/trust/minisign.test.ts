/**
 * minisign keys and signatures made with node:crypto: BLAKE2b-256 as
 * specified (key checksums), signatures that verify and refuse, and
 * interoperability with the real minisign both ways.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAirlockError } from '../../src/errors.ts';
import { blake2b } from '../../src/trust/blake2b.ts';
import {
  formatPublicKey,
  formatSecretKey,
  generateKeys,
  parsePublicKey,
  parseSecretKey,
  parseSignature,
  signMessage,
  verifySignature,
} from '../../src/trust/minisign.ts';
import { tempDir } from '../helpers/plugin.ts';
import { requireExternal } from '../helpers/require.ts';

test('BLAKE2b matches RFC 7693 and b2sum: 512-bit "abc", 256-bit "abc", and multi-block input', (t) => {
  t.is(
    blake2b(Buffer.from('abc'), 64).toString('hex'),
    'ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923',
  );
  t.is(blake2b(Buffer.from('abc'), 32).toString('hex'), 'bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319');
  for (const n of [0, 127, 128, 129, 256, 1000]) {
    const data = Buffer.alloc(n, n & 0xff);
    t.true(blake2b(data, 64).equals(createHash('blake2b512').update(data).digest()), `${n} bytes`);
  }
});

test('a signature verifies with its key, and not with another key, another message or another trusted comment', (t) => {
  const a = generateKeys();
  const b = generateKeys();
  const sig = parseSignature(signMessage(a, Buffer.from('message'), 'comment'));
  t.true(verifySignature(a.publicKey, Buffer.from('message'), sig));
  t.false(verifySignature(b.publicKey, Buffer.from('message'), sig));
  t.false(verifySignature({ ...b.publicKey, keyId: a.keyId }, Buffer.from('message'), sig), 'a key id alone proves nothing');
  t.false(verifySignature(a.publicKey, Buffer.from('messagE'), sig));
  t.false(verifySignature(a.publicKey, Buffer.from('message'), { ...sig, trustedComment: 'other comment' }));
});

test('keys round-trip through their files; a damaged secret key or a malformed public key is refused', (t) => {
  const keys = generateKeys();
  const secret = formatSecretKey(keys);
  const back = parseSecretKey(secret);
  t.is(back.publicKey.line, keys.publicKey.line);
  t.is(parsePublicKey(formatPublicKey(keys.publicKey)).id, keys.publicKey.id);
  t.is(parsePublicKey(keys.publicKey.line).id, keys.publicKey.id);
  const lines = secret.split('\n');
  const bytes = Buffer.from(lines[1]!, 'base64');
  bytes[100] = bytes[100]! ^ 1;
  const damaged = `${lines[0]}\n${bytes.toString('base64')}\n`;
  t.true(
    isAirlockError(
      t.throws(() => parseSecretKey(damaged)),
      'signature-invalid',
    ),
  );
  t.true(
    isAirlockError(
      t.throws(() => parsePublicKey('RWQ-not-base64')),
      'signature-invalid',
    ),
  );
  t.true(
    isAirlockError(
      t.throws(() => parseSignature('untrusted comment: x\nAAAA\n')),
      'signature-invalid',
    ),
  );
});

const minisign = spawnSync('minisign', ['-v'], { encoding: 'utf8' });
const haveMinisign = minisign.status === 0;
if (requireExternal('minisign', haveMinisign, 'the minisign command is not installed (apt-get install minisign)')) {
  test('minisign -V verifies what Airlock signs, with the public key file Airlock wrote', (t) => {
    const dir = tempDir();
    const keys = generateKeys();
    writeFileSync(join(dir, 'k.pub'), formatPublicKey(keys.publicKey));
    writeFileSync(join(dir, 'msg'), 'hello minisign\n');
    writeFileSync(join(dir, 'msg.minisig'), signMessage(keys, readFileSync(join(dir, 'msg')), 'airlock wrote this'));
    const run = spawnSync('minisign', ['-V', '-p', join(dir, 'k.pub'), '-m', join(dir, 'msg')], { encoding: 'utf8' });
    t.is(run.status, 0, run.stderr);
    t.regex(run.stdout, /Trusted comment: airlock wrote this/);
    writeFileSync(join(dir, 'msg'), 'hello minisigN\n');
    t.not(spawnSync('minisign', ['-V', '-p', join(dir, 'k.pub'), '-m', join(dir, 'msg')]).status, 0, 'minisign refuses a changed message');
  });

  test('Airlock verifies what minisign signs, with a key pair minisign made (-W), and signs with that secret key', (t) => {
    const dir = tempDir();
    const gen = spawnSync('minisign', ['-G', '-W', '-p', join(dir, 'm.pub'), '-s', join(dir, 'm.key')], { encoding: 'utf8' });
    t.is(gen.status, 0, gen.stderr);
    writeFileSync(join(dir, 'msg'), 'signed by minisign\n');
    const sign = spawnSync('minisign', ['-S', '-s', join(dir, 'm.key'), '-m', join(dir, 'msg'), '-t', 'from minisign'], { encoding: 'utf8' });
    t.is(sign.status, 0, sign.stderr);
    const pk = parsePublicKey(readFileSync(join(dir, 'm.pub'), 'utf8'));
    const sig = parseSignature(readFileSync(join(dir, 'msg.minisig'), 'utf8'));
    t.is(sig.trustedComment, 'from minisign');
    t.true(verifySignature(pk, readFileSync(join(dir, 'msg')), sig));
    t.false(verifySignature(pk, Buffer.from('other'), sig));
    const sk = parseSecretKey(readFileSync(join(dir, 'm.key'), 'utf8'));
    t.is(sk.publicKey.line, pk.line);
    t.true(verifySignature(pk, Buffer.from('x'), parseSignature(signMessage(sk, Buffer.from('x'), 'y'))));
  });
}
