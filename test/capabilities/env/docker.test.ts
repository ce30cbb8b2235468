import test from 'ava';
import { envDocker } from '../../../src/capabilities/env/docker.ts';
import { makeGrants } from '../../helpers/grants.ts';

test('only granted variables, with their values', (t) => {
  t.deepEqual(envDocker(makeGrants({ env: { API_KEY: 'k', EMPTY: '' } })), { env: { API_KEY: 'k', EMPTY: '' }, refuse: [] });
  t.deepEqual(envDocker(makeGrants()), { env: {}, refuse: [] });
});

test('names Airlock sets itself, and unpassable names, are refused', (t) => {
  const out = envDocker(makeGrants({ env: { AIRLOCK_OUTPUT_BYTES: '1', HTTPS_PROXY: 'x', 'A=B': 'x', OK: 'y' } }));
  t.deepEqual(out.env, { OK: 'y' });
  t.is(out.refuse?.length, 3);
});
