/**
 * The check ssh does and dockerode's ssh transport does not: the daemon
 * host's key must be one an OpenSSH known_hosts file lists for that host.
 * Entries: plain names, `[host]:port`, and hashed names (`|1|salt|hmac`,
 * HMAC-SHA1 of the name). `@revoked` keys are refused; `@cert-authority`
 * lines and wildcard patterns are not matched (an exact entry is needed).
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface KnownKey {
  /** The raw public key blob (what the server presents). */
  blob: Buffer;
  revoked: boolean;
}

/** How ssh names a host in known_hosts: `host` on port 22, else `[host]:port`. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function matches(pattern: string, name: string): boolean {
  if (!pattern.startsWith('|1|')) return pattern === name;
  const [, , salt, hash] = pattern.split('|');
  if (salt === undefined || hash === undefined) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

/** The keys `text` (a known_hosts file) lists for `name` (see knownHostName). */
export function knownKeys(text: string, name: string): KnownKey[] {
  const out: KnownKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]?.startsWith('@') === true) {
      if (fields[0] !== '@revoked') continue;
      revoked = true;
      fields.shift();
    }
    const [hosts, , key] = fields;
    if (hosts === undefined || key === undefined) continue;
    if (!hosts.split(',').some((p) => matches(p, name))) continue;
    out.push({ blob: Buffer.from(key, 'base64'), revoked });
  }
  return out;
}

/** A verifier for ssh2's `hostVerifier`: true only for a key listed (and not revoked) for `name` in the file at `path`. */
export function hostVerifier(path: string, name: string): (key: Buffer) => boolean {
  return (key: Buffer): boolean => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return false;
    }
    const keys = knownKeys(text, name);
    if (keys.some((k) => k.revoked && k.blob.equals(key))) return false;
    return keys.some((k) => !k.revoked && k.blob.equals(key));
  };
}
