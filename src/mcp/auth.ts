/**
 * Bearer-token authentication for MCP over HTTP: every request must carry
 * `Authorization: Bearer <token>`. Whoever holds the token can call every
 * tool with the server's grants, so it is compared in constant time and a
 * missing token is answered exactly like a wrong one.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** A fresh token: 32 random bytes, base64url (43 characters). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Shortest token accepted from the user: shorter ones can be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * A check of a request's Authorization header against `token`. Both sides
 * are hashed first, so timingSafeEqual compares fixed-length digests and
 * the time taken says nothing about the token's length or content; a
 * missing header is hashed as the empty string and takes the same path.
 */
export function bearerCheck(token: string): (req: IncomingMessage) => boolean {
  const expected = digest(token);
  return (req) => {
    const value = req.headers.authorization ?? '';
    const m = /^Bearer +(\S*) *$/i.exec(value);
    return timingSafeEqual(digest(m?.[1] ?? ''), expected) && m !== null && token !== '';
  };
}

function digest(text: string): Buffer {
  return hash('sha256', text, 'buffer');
}

/**
 * The address is on this machine only (127.0.0.0/8, ::1, or `localhost`):
 * nobody but local users can connect to it.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    // The URL parser writes every spelling of an address one way (::1, ::ffff:7f00:1).
    const n = new URL(`http://[${h}]`).hostname;
    return n === '[::1]' || n.startsWith('[::ffff:7f');
  }
  return false;
}
