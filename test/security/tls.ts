/** Throwaway TLS material for local HTTPS test servers: a CA and leaf certificates made with the openssl CLI. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/plugin.ts';

export interface TestCa {
  /** PEM of the CA certificate, to trust. */
  ca: string;
  /** A key and certificate signed by the CA for `name` (a DNS name or an IPv4 address). */
  leaf(name: string): { key: string; cert: string };
}

export function makeCa(): TestCa {
  const dir = tempDir('airlock-tls-');
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=airlock test CA',
  );
  let n = 0;
  return {
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    leaf(name) {
      const id = `leaf${++n}`;
      const san = /^\d+\.\d+\.\d+\.\d+$/.test(name) ? `IP:${name}` : `DNS:${name}`;
      writeFileSync(join(dir, `${id}.ext`), `subjectAltName=${san}\n`);
      ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${id}.key`, '-out', `${id}.csr`, '-subj', `/CN=${name}`);
      ssl(
        'x509',
        '-req',
        '-in',
        `${id}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${id}.pem`,
        '-days',
        '2',
        '-extfile',
        `${id}.ext`,
      );
      return { key: readFileSync(join(dir, `${id}.key`), 'utf8'), cert: readFileSync(join(dir, `${id}.pem`), 'utf8') };
    },
  };
}
