/** Throwaway TLS material for local HTTPS test servers: a CA and leaf certificates (test/helpers/ca.ts). */
import { readFileSync } from 'node:fs';
import { altName, makeCa as makeTestCa } from '../helpers/ca.ts';

export interface TestCa {
  /** PEM of the CA certificate, to trust. */
  ca: string;
  /** A key and certificate signed by the CA for `name` (a DNS name or an IPv4 address). */
  leaf(name: string): { key: string; cert: string };
}

export function makeCa(): TestCa {
  const ca = makeTestCa();
  let n = 0;
  return {
    ca: readFileSync(ca.ca, 'utf8'),
    leaf(name) {
      const pair = ca.issue(`leaf${++n}`, `/CN=${name}`, altName(name));
      return { key: readFileSync(pair.key, 'utf8'), cert: readFileSync(pair.cert, 'utf8') };
    },
  };
}
