/**
 * Property tests of the network allow-list algebra. `hostPatternCovers` decides
 * whether a policy entry lets the grants carry a requested entry, so it must
 * agree with what the entries admit at run time: the egress proxy's rules
 * (src/egress/policy.ts, also used by the worker engine), the
 * one place that says which `host:port` a pattern lets through.
 */
import test from 'ava';
import fc from 'fast-check';
import { canonicalIp, checkTarget, compileRules, type Target } from '../../src/egress/index.ts';
import type { HostPattern } from '../../src/grants/index.ts';
import { formatHostPattern, hostPatternCovers, hostPatternMatches, parseHostPattern } from '../../src/manifest/index.ts';
import { fuzz } from '../helpers/fuzz.ts';

const names = ['example.com', 'a.example.com', 'b.a.example.com', 'other.org', 'x.other.org', '0.0.1', '0.1'];
const ips = ['127.0.0.1', '10.0.0.7', '::1', '2001:db8::5'];
const ports = [80, 443, 22, 8080];

/** Allow-list entries as people write them, kept only when they parse. */
const pattern: fc.Arbitrary<HostPattern> = fc
  .record({
    host: fc.constantFrom(...names, ...ips),
    wildcard: fc.boolean(),
    port: fc.option(fc.constantFrom(...ports, 9000), { nil: undefined }),
  })
  .map(({ host, wildcard, port }) => {
    const shown = host.includes(':') ? `[${host}]` : host;
    return parseHostPattern(`${wildcard ? '*.' : ''}${shown}${port === undefined ? '' : `:${port}`}`);
  })
  .filter((p): p is HostPattern => typeof p !== 'string');

/** Every destination that tells two patterns apart: their hosts, subdomains of them, every port either names. */
function targets(...ps: HostPattern[]): Target[] {
  const hosts = new Set<string>(ips);
  for (const p of ps) for (const h of [p.host, `zz.${p.host}`, `zz.yy.${p.host}`]) hosts.add(h);
  const portSet = new Set([...ports, ...ps.flatMap((p) => (p.port === undefined ? [] : [p.port]))]);
  return [...hosts].flatMap((h) => {
    const ip = canonicalIp(h);
    return [...portSet].map((port) => ({ host: ip ?? h, port, ip: ip !== undefined }));
  });
}

const admits = (p: HostPattern, t: Target): boolean => checkTarget(compileRules([p]), t).ok;
const show = (t: Target): string => `${t.ip && t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;

test('a policy entry covers a request exactly when every destination the request admits, the policy entry admits too', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(pattern, pattern, (outer, inner) => {
        const wider = targets(outer, inner).filter((x) => admits(inner, x) && !admits(outer, x));
        const covers = hostPatternCovers(outer, inner);
        if (covers && wider.length > 0) throw new Error(`${formatHostPattern(outer)} covers ${formatHostPattern(inner)}, which also admits ${show(wider[0]!)}`);
        if (!covers && wider.length === 0)
          throw new Error(`${formatHostPattern(outer)} does not cover ${formatHostPattern(inner)}, though it admits everything it does`);
      }),
      fuzz(2000),
    ),
  );
});

test('covering is reflexive and transitive', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(pattern, pattern, pattern, (a, b, c) => {
        if (!hostPatternCovers(a, a)) throw new Error(`${formatHostPattern(a)} does not cover itself`);
        if (hostPatternCovers(a, b) && hostPatternCovers(b, c) && !hostPatternCovers(a, c)) {
          throw new Error(
            `${formatHostPattern(a)} ⊇ ${formatHostPattern(b)} ⊇ ${formatHostPattern(c)} but not ${formatHostPattern(a)} ⊇ ${formatHostPattern(c)}`,
          );
        }
      }),
      fuzz(1000),
    ),
  );
});

test('hostPatternMatches admits exactly the destinations the egress rules admit', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(pattern, (p) => {
        for (const x of targets(p)) {
          const host = x.ip && x.host.includes(':') ? `[${x.host}]` : x.host;
          if (hostPatternMatches(p, host, x.port) !== admits(p, x))
            throw new Error(`${formatHostPattern(p)} and ${show(x)}: hostPatternMatches says ${!admits(p, x)}`);
        }
      }),
      fuzz(500),
    ),
  );
});

test('formatting a parsed entry and parsing it again gives the same entry', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(pattern, (p) => {
        const again = parseHostPattern(formatHostPattern(p));
        if (JSON.stringify(again) !== JSON.stringify(p)) throw new Error(`${JSON.stringify(p)} → ${formatHostPattern(p)} → ${JSON.stringify(again)}`);
      }),
      fuzz(500),
    ),
  );
});

test('parseHostPattern never throws on arbitrary text and every entry it accepts compiles for the egress proxy', (t) => {
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc
      .array(fc.constantFrom('*.', 'a', 'example', '.', 'com', ':', '443', '[', ']', '::1', '1', '0', '-', '_', '/', ' ', 'é', 'xn--'), { maxLength: 12 })
      .map((p) => p.join('')),
  );
  t.notThrows(() =>
    fc.assert(
      fc.property(text, (s) => {
        const p = parseHostPattern(s);
        if (typeof p !== 'string') compileRules([p]);
      }),
      fuzz(2000),
    ),
  );
});
