import test from 'ava';
import { networkDocker } from '../../../src/capabilities/network/docker.ts';
import { makeGrants } from '../../helpers/grants.ts';

test('no network grant: NetworkMode none', (t) => {
  t.deepEqual(networkDocker(makeGrants()), { hostConfig: { NetworkMode: 'none' } });
});

test('an allowlist asks for egress through the proxy, sets no NetworkMode itself, and gives DNS no way out', (t) => {
  const allow = [{ host: 'api.example.com', wildcard: false, port: 443 }];
  t.deepEqual(networkDocker(makeGrants({ network: { allow } })), { egress: allow, hostConfig: { Dns: ['127.0.0.1'] } });
});

test('an empty allowlist is no network', (t) => {
  t.deepEqual(networkDocker(makeGrants({ network: { allow: [] } })), { hostConfig: { NetworkMode: 'none' } });
});
