/** Allow-list algebra: the counterexamples test/manifest/hosts.property.test.ts found, kept as plain cases. */
import test from 'ava';
import type { HostPattern } from '../../src/grants/index.ts';
import { hostPatternCovers, hostPatternMatches, parseHostPattern } from '../../src/manifest/index.ts';

const p = (text: string): HostPattern => parseHostPattern(text) as HostPattern;

test('a port-less entry covers requests for ports 80 and 443 only, since it admits only those', (t) => {
  t.true(hostPatternCovers(p('example.com'), p('example.com:443')));
  t.true(hostPatternCovers(p('example.com'), p('example.com:80')));
  t.false(hostPatternCovers(p('example.com'), p('example.com:22')));
  t.false(hostPatternCovers(p('*.example.com'), p('a.example.com:8443')));
  t.false(hostPatternCovers(p('127.0.0.1'), p('127.0.0.1:8080')));
});

test('a wildcard entry covers the same wildcard', (t) => {
  t.true(hostPatternCovers(p('*.example.com'), p('*.example.com')));
  t.true(hostPatternCovers(p('*.example.com:443'), p('*.example.com:443')));
  t.false(hostPatternCovers(p('*.example.com:443'), p('*.example.com')));
});

test('a wildcard entry never covers an IP address that happens to end like it', (t) => {
  t.false(hostPatternCovers(p('*.0.0.1'), p('127.0.0.1')));
  t.false(hostPatternMatches(p('*.0.0.1'), '127.0.0.1', 443));
});

test('hostPatternMatches admits a port-less entry on ports 80 and 443 only', (t) => {
  t.true(hostPatternMatches(p('example.com'), 'example.com', 443));
  t.false(hostPatternMatches(p('example.com'), 'example.com', 22));
  t.true(hostPatternMatches(p('example.com:22'), 'example.com', 22));
});
