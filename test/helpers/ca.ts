/**
 * Throwaway certificate authorities for tests, made with the openssl CLI (node:crypto makes keys, not X.509
 * certificates): a CA, then certificates it signs, each with the extensions a test names (a SAN, a key usage).
 * The one way tests make TLS material: HTTPS servers, a mutual-TLS Docker daemon, the test cluster's PKI.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './plugin.ts';

/** Paths of a certificate and its key. */
export interface KeyPair {
  cert: string;
  key: string;
}

export interface TestCa {
  /** The folder everything is written to. */
  dir: string;
  /** The CA certificate (PEM file), to trust. */
  ca: string;
  /** A certificate for `subject` (e.g. `/CN=127.0.0.1`) signed by the CA, with these openssl extension lines. */
  issue(name: string, subject: string, extensions: string): KeyPair;
}

export function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** P-256 keys: every TLS stack here takes them, and openssl makes them in milliseconds (RSA takes far longer). */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A CA named `name` in `dir` (default: a fresh temp folder); certificates valid for two days. */
export function makeCa(name = 'airlock test CA', dir = tempDir('airlock-ca-')): TestCa {
  openssl(['req', '-x509', ...NEW_KEY, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=${name}`], dir);
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    issue(who, subject, extensions) {
      writeFileSync(join(dir, `${who}.ext`), extensions.endsWith('\n') ? extensions : `${extensions}\n`);
      openssl(['req', ...NEW_KEY, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', subject], dir);
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${who}.csr`,
          '-CA',
          'ca.pem',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          `${who}.pem`,
          '-days',
          '2',
          '-extfile',
          `${who}.ext`,
        ],
        dir,
      );
      return { cert: join(dir, `${who}.pem`), key: join(dir, `${who}.key`) };
    },
  };
}

/** The subjectAltName line for a DNS name or an IPv4 address. */
export function altName(name: string): string {
  return `subjectAltName=${/^\d+\.\d+\.\d+\.\d+$/.test(name) ? `IP:${name}` : `DNS:${name}`}`;
}
