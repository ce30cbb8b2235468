import test from 'ava';
import { isAllowed, parseAuthority } from '../../../src/capabilities/network/allow.ts';
import type { NetworkGrant } from '../../../src/grants/types.ts';

const grant: NetworkGrant = {
  allow: [
    { host: 'api.example.com', wildcard: false },
    { host: 'cdn.net', wildcard: true, port: 443 },
    { host: '10.0.0.1', wildcard: false, port: 8080 },
  ],
};

test('authorities parse with default ports per scheme', (t) => {
  t.deepEqual(parseAuthority('https', 'API.Example.com'), { host: 'api.example.com', port: 443, ip: false });
  t.deepEqual(parseAuthority('http', 'api.example.com.'), { host: 'api.example.com', port: 80, ip: false });
  t.deepEqual(parseAuthority('http', '[::1]:8080'), { host: '::1', port: 8080, ip: true });
});

test('malformed authorities are rejected (and so denied)', (t) => {
  for (const a of ['', 'user@api.example.com', 'api.example.com:0', 'api.example.com:99999', 'a:b:c', 'host/path', '[::1', 'h:x']) {
    t.is(parseAuthority('https', a), undefined, a);
  }
});

test('hosts and ports are matched exactly (no port: 80 and 443 only, as in the egress proxy); wildcards match subdomains only', (t) => {
  const ok = (s: 'http' | 'https', a: string): boolean => isAllowed(grant, parseAuthority(s, a)!);
  t.true(ok('https', 'api.example.com'));
  t.true(ok('http', 'api.example.com'));
  t.false(ok('http', 'api.example.com:8000'));
  t.false(ok('https', 'evil.example.com'));
  t.false(ok('https', 'api.example.com.evil.org'));
  t.true(ok('https', 'img.cdn.net'));
  t.false(ok('https', 'cdn.net'));
  t.false(ok('http', 'img.cdn.net'));
  t.false(ok('https', 'xcdn.net'));
  t.true(ok('http', '10.0.0.1:8080'));
  t.false(ok('http', '10.0.0.1'));
  t.false(isAllowed(null, { host: 'api.example.com', port: 443, ip: false }));
});
