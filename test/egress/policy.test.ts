import test from 'ava';
import type { HostPattern } from '../../src/grants/types.ts';
import { DEFAULT_PORTS, addressRange, checkAddresses, checkTarget, compileRules, parseAuthority } from '../../src/egress/index.ts';
import type { Target } from '../../src/egress/index.ts';

const target = (authority: string, defaultPort?: number): Target => {
  const t = parseAuthority(authority, defaultPort);
  if (typeof t === 'string') throw new Error(`${authority}: ${t}`);
  return t;
};

test('parseAuthority canonicalises every spelling of a host to one form', (t) => {
  t.deepEqual(target('API.Example.COM:443'), { host: 'api.example.com', port: 443, ip: false });
  t.deepEqual(target('api.example.com.:443'), { host: 'api.example.com', port: 443, ip: false });
  t.deepEqual(target('%61pi.example.com:443'), { host: 'api.example.com', port: 443, ip: false });
  t.deepEqual(target('api.example.com', 80), { host: 'api.example.com', port: 80, ip: false });
  // inet_aton shapes a client library may accept all land on the dotted quad.
  t.deepEqual(target('0x7f.1:80'), { host: '127.0.0.1', port: 80, ip: true });
  t.deepEqual(target('2130706433:80'), { host: '127.0.0.1', port: 80, ip: true });
  t.deepEqual(target('0177.0.0.1:80'), { host: '127.0.0.1', port: 80, ip: true });
  t.deepEqual(target('[::1]:443'), { host: '::1', port: 443, ip: true });
  t.deepEqual(target('[0:0:0:0:0:0:0:1]:443'), { host: '::1', port: 443, ip: true });
  // IPv4-mapped IPv6 is folded to the IPv4 it carries.
  t.deepEqual(target('[::ffff:7f00:1]:80'), { host: '127.0.0.1', port: 80, ip: true });
  t.deepEqual(target('[::ffff:169.254.169.254]:80'), { host: '169.254.169.254', port: 80, ip: true });
});

test('parseAuthority refuses malformed targets with a reason', (t) => {
  for (const bad of [
    '',
    'api.example.com',
    'api.example.com:',
    'api.example.com:0',
    'api.example.com:65536',
    'api.example.com:8o',
    'user@api.example.com:443',
    'user:pw@api.example.com:443',
    'api.example.com/x:443',
    'api example.com:443',
    'api\u0000.example.com:443',
    'bücher.example:443',
    '[::1:443',
    '[::1]x:443',
    '::1:443',
    'a..b:443',
    '*.example.com:443',
    ':443',
    '[]:443',
    '[not-v6]:443',
    `${'x'.repeat(400)}:443`,
  ]) {
    const r = parseAuthority(bad);
    t.is(typeof r, 'string', `${JSON.stringify(bad)} should be refused, got ${JSON.stringify(r)}`);
  }
});

test('addressRange: only public unicast is public', (t) => {
  for (const ip of [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.15.255.255',
    '172.32.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '2606:4700:4700::1111',
    '2a00:1450:4001::200e',
  ]) {
    t.is(addressRange(ip), 'unicast', ip);
  }
  const refused: Record<string, string> = {
    '10.1.2.3': 'private',
    '172.16.0.1': 'private',
    '172.31.255.255': 'private',
    '192.168.1.1': 'private',
    '127.0.0.1': 'loopback',
    '127.255.255.254': 'loopback',
    '169.254.169.254': 'linkLocal',
    '100.64.0.1': 'carrierGradeNat',
    '0.0.0.0': 'unspecified',
    '0.1.2.3': 'unspecified',
    '224.0.0.1': 'multicast',
    '239.255.255.250': 'multicast',
    '255.255.255.255': 'broadcast',
    '192.0.2.1': 'reserved',
    '240.0.0.1': 'reserved',
    '::1': 'loopback',
    '::': 'unspecified',
    'fe80::1': 'linkLocal',
    'fc00::1': 'uniqueLocal',
    'fd12:3456::1': 'uniqueLocal',
    'ff02::1': 'multicast',
    // IPv4-mapped forms are classified as the IPv4 they carry.
    '::ffff:127.0.0.1': 'loopback',
    '::ffff:10.0.0.1': 'private',
    '::ffff:a9fe:a9fe': 'linkLocal',
    // Other IPv6 forms that embed IPv4 or sit outside 2000::/3.
    '::7f00:1': 'reserved',
    '64:ff9b::a9fe:a9fe': 'rfc6052',
    '2002:a9fe:a9fe::1': '6to4',
    '2001::1': 'teredo',
    '2001:db8::1': 'reserved',
    'fec0::1': 'deprecatedSiteLocal',
    '::ffff:0:a00:1': 'rfc6145',
  };
  for (const [ip, range] of Object.entries(refused)) t.is(addressRange(ip), range, ip);
});

const rules = (...patterns: HostPattern[]) => compileRules(patterns);

test('an entry without a port admits 80 and 443 only; with a port, that port only', (t) => {
  t.deepEqual(DEFAULT_PORTS, [80, 443]);
  const r = rules({ host: 'api.example.com', wildcard: false }, { host: 'db.example.com', wildcard: false, port: 5432 });
  t.true(checkTarget(r, target('api.example.com:443')).ok);
  t.true(checkTarget(r, target('api.example.com:80')).ok);
  t.like(checkTarget(r, target('api.example.com:22')), { ok: false, code: 'port-not-allowed' });
  t.like(checkTarget(r, target('api.example.com:8080')), { ok: false, code: 'port-not-allowed' });
  t.true(checkTarget(r, target('db.example.com:5432')).ok);
  t.like(checkTarget(r, target('db.example.com:443')), { ok: false, code: 'port-not-allowed' });
  const refused = checkTarget(r, target('api.example.com:22'));
  t.true(!refused.ok && refused.reason.includes('api.example.com (ports 80, 443)'), JSON.stringify(refused));
});

test('a wildcard admits subdomains at any depth, never the apex or look-alikes', (t) => {
  const r = rules({ host: 'example.com', wildcard: true, port: 443 });
  t.true(checkTarget(r, target('a.example.com:443')).ok);
  t.true(checkTarget(r, target('a.b.example.com:443')).ok);
  t.like(checkTarget(r, target('example.com:443')), { ok: false, code: 'host-not-allowed' });
  t.like(checkTarget(r, target('badexample.com:443')), { ok: false, code: 'host-not-allowed' });
  t.like(checkTarget(r, target('example.com.evil.net:443')), { ok: false, code: 'host-not-allowed' });
  t.like(checkTarget(r, target('a.example.com:80')), { ok: false, code: 'port-not-allowed' });
  const plain = rules({ host: 'example.com', wildcard: false });
  t.like(checkTarget(plain, target('a.example.com:443')), { ok: false, code: 'host-not-allowed' });
});

test('IP-literal targets pass only when an entry names the address', (t) => {
  const r = rules({ host: '10.0.0.7', wildcard: false, port: 8080 }, { host: '::1', wildcard: false, port: 9000 }, { host: 'example.com', wildcard: false });
  t.true(checkTarget(r, target('10.0.0.7:8080')).ok);
  t.true(checkTarget(r, target('[::ffff:10.0.0.7]:8080')).ok);
  t.true(checkTarget(r, target('[0::1]:9000')).ok);
  t.like(checkTarget(r, target('10.0.0.7:80')), { ok: false, code: 'port-not-allowed' });
  t.like(checkTarget(r, target('10.0.0.8:8080')), { ok: false, code: 'ip-not-named' });
  // example.com's address, asked for by number, is not example.com.
  t.like(checkTarget(r, target('93.184.216.34:443')), { ok: false, code: 'ip-not-named' });
  t.like(checkTarget(rules({ host: '93.184.216.34', wildcard: false }), target('93.184.216.34:443')), { ok: true });
});

test('resolved addresses: public passes; non-public only when the grant names it', (t) => {
  const name = rules({ host: 'api.example.com', wildcard: false });
  const api = target('api.example.com:443');
  t.deepEqual(checkAddresses(name, api, ['93.184.216.34', '2606:2800:220:1::1']), { ok: true, addresses: ['93.184.216.34', '2606:2800:220:1::1'] });
  for (const bad of ['10.0.0.5', '169.254.169.254', '127.0.0.1', '::1', '::ffff:127.0.0.1', 'fd00::1', '100.64.0.1', '0.0.0.0']) {
    const r = checkAddresses(name, api, [bad]);
    t.like(r, { ok: false, code: 'private-address' }, bad);
    t.true(!r.ok && r.reason.includes('grant names the address'), bad);
  }
  // One bad answer among good ones refuses the name (what rebinding looks like).
  t.like(checkAddresses(name, api, ['93.184.216.34', '10.0.0.5']), { ok: false, code: 'private-address', address: '10.0.0.5' });

  const named = rules(
    { host: 'api.example.com', wildcard: false },
    { host: '169.254.169.254', wildcard: false, port: 443 },
    { host: '10.0.0.5', wildcard: false, port: 8443 },
  );
  t.deepEqual(checkAddresses(named, api, ['169.254.169.254']), { ok: true, addresses: ['169.254.169.254'] });
  t.deepEqual(checkAddresses(named, api, ['::ffff:169.254.169.254']), { ok: true, addresses: ['169.254.169.254'] });
  // Named with another port: still refused on this one.
  t.like(checkAddresses(named, api, ['10.0.0.5']), { ok: false, code: 'private-address' });

  // The proxy connects to the canonical text it classified, never to the resolver's raw spelling.
  t.deepEqual(checkAddresses(name, api, ['::ffff:5db8:d822']), { ok: true, addresses: ['93.184.216.34'] });
  t.deepEqual(checkAddresses(name, api, ['2606:2800:0220:0001:0000:0000:0000:0001']), { ok: true, addresses: ['2606:2800:220:1::1'] });

  t.like(checkAddresses(name, api, []), { ok: false, code: 'resolve-failed' });
  t.like(checkAddresses(name, api, ['api.example.com']), { ok: false, code: 'resolve-failed' });
});

test('compileRules refuses malformed entries, naming the entry and field', (t) => {
  t.throws(() => compileRules([{ host: '', wildcard: false }]), { message: /allow\[0\]\.host/ });
  t.throws(
    () =>
      compileRules([
        { host: 'a.com', wildcard: false },
        { host: 'b.com', wildcard: false, port: 0 },
      ]),
    { message: /allow\[1\]\.port/ },
  );
  t.throws(() => compileRules([{ host: 'a.com', wildcard: false, port: 1.5 }]), { message: /allow\[0\]\.port/ });
  t.throws(() => compileRules([{ host: '10.0.0.1', wildcard: true }]), { message: /allow\[0\]: a wildcard cannot apply/ });
  t.throws(() => compileRules([{ host: 'a b', wildcard: false }]), { message: /allow\[0\]\.host/ });
  t.throws(() => compileRules([{ host: 'a.com', wildcard: 'yes' } as unknown as HostPattern]), { message: /allow\[0\]\.wildcard/ });
  t.is(compileRules([{ host: '[::1]', wildcard: false, port: 80 }])[0]?.ip, '::1');
  t.is(compileRules([{ host: 'Example.COM.', wildcard: true }])[0]?.text, '*.example.com');
});
