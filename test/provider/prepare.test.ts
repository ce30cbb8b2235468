/** A node or python plugin's image ahead of its first call (src/provider/index.ts prepareSource). */
import test from 'ava';
import { prepareSource } from '../../src/provider/index.ts';
import type { AirlockError } from '../../src/errors.ts';
import { makeGrants } from '../helpers/grants.ts';

test("without a Docker daemon, building a node plugin's image is engine-unavailable naming the plugin, its runtime and the fix", async (t) => {
  // This file's own worker process: no other test sees this DOCKER_HOST.
  process.env.DOCKER_HOST = 'unix:///nonexistent/airlock-test-docker.sock';
  const grants = makeGrants({ plugin: { name: 'needs-docker', runtime: 'node', entry: '/nonexistent/index.js' } });
  const err = await t.throwsAsync<AirlockError>(prepareSource(grants, {}), { code: 'engine-unavailable' });
  t.regex(
    err?.message ?? '',
    /^needs-docker is a node plugin and needs Docker to build: the Docker daemon at unix:\/\/\/nonexistent\/airlock-test-docker\.sock does not answer: .+; /,
  );
});
