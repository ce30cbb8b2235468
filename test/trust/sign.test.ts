/**
 * Plugin signatures and the trust policy: `airlock keygen`/`sign`/`verify`,
 * and a host whose policy lists signers refusing, before any build, an
 * unsigned plugin (signature-missing), a changed one (signature-invalid) and
 * one signed by a key it does not trust for that name (untrusted-signer).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AirlockError, isAirlockError } from '../../src/errors.ts';
import { PluginHost } from '../../src/host/index.ts';
import type { PolicyInput } from '../../src/grants/index.ts';
import { pluginDigest, SIGNATURE_FILE, statement } from '../../src/trust/index.ts';
import { cli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/plugin.ts';
import { requireExternal } from '../helpers/require.ts';
import { echoCopy, edit, NoEngines } from './helpers.ts';

/** A key pair made by `airlock keygen`: its file prefix and its public key line. */
async function keygen(t: import('ava').ExecutionContext, name = 'key'): Promise<{ prefix: string; line: string }> {
  const prefix = join(tempDir(), name);
  const run = await cli(['keygen', '--out', prefix]);
  t.is(run.code, 0, run.stderr);
  const line = readFileSync(`${prefix}.pub`, 'utf8').split('\n')[1]!;
  return { prefix, line };
}

async function signed(t: import('ava').ExecutionContext): Promise<{ dir: string; key: { prefix: string; line: string } }> {
  const key = await keygen(t);
  const dir = echoCopy();
  const run = await cli(['sign', dir, '--key', `${key.prefix}.key`]);
  t.is(run.code, 0, run.stderr);
  return { dir, key };
}

/** Loads `dir` under `trust`; returns the refusal, or 'reached the engines' when the trust check let it through. */
async function loadUnder(t: import('ava').ExecutionContext, dir: string, trust: PolicyInput['trust']): Promise<{ error: AirlockError; opens: number }> {
  const engines = new NoEngines();
  const host = new PluginHost({ policy: { trust }, provider: engines });
  t.teardown(() => host.close());
  const error = (await t.throwsAsync(host.load(dir))) as AirlockError;
  return { error, opens: engines.opens };
}

test('keygen writes a 0600 secret key and a public key, and never replaces a key', async (t) => {
  const { prefix, line } = await keygen(t);
  t.regex(line, /^RW[A-Za-z0-9+/]{54}$/);
  const { statSync } = await import('node:fs');
  t.is(statSync(`${prefix}.key`).mode & 0o777, 0o600);
  const again = await cli(['keygen', '--out', prefix]);
  t.is(again.code, 1);
  t.regex(again.stderr, /conflict: .*key\.key exists/);
});

test('airlock sign signs name, version and digest; airlock verify accepts it with the key', async (t) => {
  const { dir, key } = await signed(t);
  const run = await cli(['verify', dir, '--key', `${key.prefix}.pub`, '--json']);
  t.is(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  t.like(out, { plugin: 'echo-js', version: '0.1.0', digest: await pluginDigest(dir) });
  t.regex(readFileSync(join(dir, SIGNATURE_FILE), 'utf8'), /trusted comment: airlock-plugin\/v1 name=echo-js version=0\.1\.0 digest=sha256:/);
});

test('a file changed after signing: verify and load refuse it with signature-invalid, before any build', async (t) => {
  const { dir, key } = await signed(t);
  edit(dir, 'echo.js', 'a + b', 'a - b');
  const run = await cli(['verify', dir, '--key', `${key.prefix}.pub`]);
  t.is(run.code, 1);
  t.regex(run.stderr, /signature-invalid: plugin "echo-js": the signature by key [0-9A-F]{16} does not verify/);
  const { error, opens } = await loadUnder(t, dir, { signers: [{ key: key.line }] });
  t.true(isAirlockError(error, 'signature-invalid'), String(error));
  t.is(opens, 0);
});

test('a signature moved onto another plugin does not verify for it (it binds the name)', async (t) => {
  const { dir, key } = await signed(t);
  const other = echoCopy();
  edit(other, 'plugin.yaml', 'name: echo-js', 'name: echo-evil');
  writeFileSync(join(other, SIGNATURE_FILE), readFileSync(join(dir, SIGNATURE_FILE)));
  const { error } = await loadUnder(t, other, { signers: [{ key: key.line }] });
  t.true(isAirlockError(error, 'signature-invalid'), String(error));
  t.regex(error.message, /it claims: "airlock-plugin\/v1 name=echo-js/);
});

test('a policy trusting the signer loads the signed plugin (the load reaches the engines)', async (t) => {
  const { dir, key } = await signed(t);
  const { error, opens } = await loadUnder(t, dir, { requireSignatures: true, signers: [{ key: key.line, plugins: ['echo-*'] }] });
  t.regex(error.message, /reached the engines/);
  t.is(opens, 1);
});

test('a wrong signer is refused with untrusted-signer, before any build', async (t) => {
  const { dir } = await signed(t);
  const other = await keygen(t, 'other');
  const { error, opens } = await loadUnder(t, dir, { signers: [{ key: other.line }] });
  t.true(isAirlockError(error, 'untrusted-signer'), String(error));
  t.regex(error.message, /signed by key [0-9A-F]{16}, which the trust policy does not list/);
  t.is(opens, 0);
  const run = await cli(['verify', dir, '--key', `${other.prefix}.pub`]);
  t.is(run.code, 1);
  t.regex(run.stderr, /untrusted-signer/);
});

test('a signer trusted only for other plugin names is refused with untrusted-signer', async (t) => {
  const { dir, key } = await signed(t);
  const { error, opens } = await loadUnder(t, dir, { signers: [{ key: key.line, plugins: ['acme-*'] }] });
  t.true(isAirlockError(error, 'untrusted-signer'), String(error));
  t.regex(error.message, /allows only for other plugin names/);
  t.is(opens, 0);
});

test('an unsigned plugin is refused with signature-missing when the policy requires signatures', async (t) => {
  const key = await keygen(t);
  const dir = echoCopy();
  const { error, opens } = await loadUnder(t, dir, { requireSignatures: true, signers: [{ key: key.line }] });
  t.true(isAirlockError(error, 'signature-missing'), String(error));
  t.regex(error.message, /has no signature \(airlock\.minisig\)/);
  t.is(opens, 0);
  const notRequired = await loadUnder(t, dir, { signers: [{ key: key.line }] });
  t.regex(notRequired.error.message, /reached the engines/, 'unsigned is fine when signatures are not required');
});

test('the policy schema refuses a signer key that is not a minisign public key', async (t) => {
  const run = await cli(['verify', echoCopy(), '--policy', writePolicy('trust:\n  signers:\n    - key: not-a-key\n')]);
  t.is(run.code, 1);
  t.regex(run.stderr, /trust\.signers\[0\]\.key: expected a minisign public key/);
});

function writePolicy(text: string): string {
  const file = join(tempDir(), 'policy.yaml');
  writeFileSync(file, text);
  return file;
}

const haveMinisign = spawnSync('minisign', ['-v']).status === 0;
if (requireExternal('minisign', haveMinisign, 'the minisign command is not installed (apt-get install minisign)')) {
  test('minisign -V verifies a plugin signature made by airlock sign, over its statement', async (t) => {
    const { dir, key } = await signed(t);
    const file = join(tempDir(), 'statement');
    writeFileSync(file, statement('echo-js', '0.1.0', await pluginDigest(dir)));
    const run = spawnSync('minisign', ['-V', '-p', `${key.prefix}.pub`, '-m', file, '-x', join(dir, SIGNATURE_FILE)], { encoding: 'utf8' });
    t.is(run.status, 0, run.stderr);
  });

  test('airlock verify accepts a plugin signature minisign made over the statement', async (t) => {
    const keys = tempDir();
    t.is(spawnSync('minisign', ['-G', '-W', '-p', join(keys, 'm.pub'), '-s', join(keys, 'm.key')]).status, 0);
    const dir = echoCopy();
    const file = join(keys, 'statement');
    const text = statement('echo-js', '0.1.0', await pluginDigest(dir));
    writeFileSync(file, text);
    const sign = spawnSync('minisign', ['-S', '-s', join(keys, 'm.key'), '-m', file, '-x', join(dir, SIGNATURE_FILE), '-t', text], { encoding: 'utf8' });
    t.is(sign.status, 0, sign.stderr);
    const run = await cli(['verify', dir, '--key', join(keys, 'm.pub')]);
    t.is(run.code, 0, run.stderr);
    t.regex(run.stdout, /verified {2}echo-js 0\.1\.0/);
  });
}
