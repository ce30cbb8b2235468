import test from 'ava';
import { stdioDocker } from '../../../src/capabilities/stdio/docker.ts';
import { makeGrants } from '../../helpers/grants.ts';

test('the log limit travels to the in-container host', (t) => {
  t.deepEqual(stdioDocker(makeGrants({ resources: { logBytes: 4096 } })), { env: { AIRLOCK_LOG_BYTES: '4096' } });
});
