import test from 'ava';
import { randomDocker } from '../../../src/capabilities/random/docker.ts';
import { makeGrants } from '../../helpers/grants.ts';

test('random needs no container option (the kernel generator, within the CPU share)', (t) => {
  t.deepEqual(randomDocker(makeGrants()), {});
});
