/**
 * What a standby worker loads ahead (src/capabilities/warm.ts) is exactly the
 * capabilities' worker parts for the common interfaces, as the host's
 * wasiPlan would choose them: no part missing (it would load at adoption),
 * none extra (every worker would carry it), never the network part.
 */
import test from 'ava';
import { wasiPlan } from '../../src/capabilities/index.ts';
import { COMMON_INTERFACES, WARM_PARTS } from '../../src/capabilities/warm.ts';

test('the warm parts are the worker parts wasiPlan picks for the common interfaces, and none of them is the network part', (t) => {
  t.deepEqual(
    [...WARM_PARTS],
    wasiPlan(COMMON_INTERFACES).parts.map((p) => p.module),
  );
  t.false(WARM_PARTS.some((m) => m.includes('/network/')));
});
