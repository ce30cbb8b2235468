import test from 'ava';
import { networkDocker } from '../../../src/capabilities/network/docker.ts';
import { makeGrants } from '../../helpers/grants.ts';

test('no network grant: NetworkMode none', (t) => {
  t.deepEqual(networkDocker(makeGrants()), { hostConfig: { NetworkMode: 'none' } });
});

test('an allowlist asks for egress through the proxy and sets no NetworkMode itself', (t) => {
  const allow = [{ host: 'api.example.com', wildcard: false, port: 443 }];
  t.deepEqual(networkDocker(makeGrants({ network: { allow } })), { egress: allow });
});

test('an empty allowlist is no network', (t) => {
  t.deepEqual(networkDocker(makeGrants({ network: { allow: [] } })), { hostConfig: { NetworkMode: 'none' } });
});
