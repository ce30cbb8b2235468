/** The composed container options (no Docker needed). */
import test from 'ava';
import { dockerRunSpec, HARDENING } from '../../../src/engines/docker/options.ts';
import { makeGrants } from '../../helpers/grants.ts';

test('the spec carries the hardening and every capability’s part', (t) => {
  const spec = dockerRunSpec(makeGrants({ env: { K: 'v' }, filesystem: [{ hostPath: '/srv/d', mount: '/d', access: 'read' }] }));
  t.deepEqual(spec.refusals, []);
  for (const [k, v] of Object.entries(HARDENING)) t.deepEqual((spec.hostConfig as Record<string, unknown>)[k], v, k);
  t.is(spec.hostConfig.NetworkMode, 'none');
  t.is(spec.hostConfig.Mounts?.length, 1);
  t.is(spec.env.K, 'v');
  t.is(spec.egress, undefined);
});

test('a capability without a Docker mapping refuses; two setting one field is a bug', (t) => {
  const spec = dockerRunSpec(makeGrants(), [{ name: 'teleport' }]);
  t.deepEqual(spec.refusals, ['capability teleport has no Docker mapping']);
  t.throws(() => dockerRunSpec(makeGrants(), [{ name: 'a', docker: () => ({ hostConfig: { Privileged: true } }) }]), {
    message: /Privileged is set by both hardening and a/,
  });
});

test('a refused grant makes the spec refuse', (t) => {
  const spec = dockerRunSpec(makeGrants({ filesystem: [{ hostPath: '/var/run', mount: '/d', access: 'read' }] }));
  t.is(spec.refusals.length, 1);
});
