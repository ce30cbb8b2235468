/**
 * Granted env values are secrets: diagnostics name the variables and say
 * whether each is set, and never print a value (text, --json, errors).
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../helpers/cli.ts';
import { withEnv } from '../helpers/env.ts';
import { manifestObject, tempDir, writePlugin } from '../helpers/plugin.ts';

const SECRET = 'sk-live-0123456789-do-not-print';

function pluginAsking(names: string[]): { dir: string; policy: string } {
  const dir = tempDir();
  const plugin = writePlugin(manifestObject({ permissions: { env: names } }), { 'main.py': '' }, dir);
  writeFileSync(join(dir, 'policy.yaml'), `env: [AIRLOCK_TEST_SECRET_*]\n`);
  return { dir: plugin.dir, policy: join(dir, 'policy.yaml') };
}

test.serial('secret values: inspect and inspect --json name granted env variables and whether set, never the value', async (t) => {
  const p = pluginAsking(['AIRLOCK_TEST_SECRET_TOKEN', 'AIRLOCK_TEST_SECRET_UNSET']);
  const [text, json] = await withEnv({ AIRLOCK_TEST_SECRET_TOKEN: SECRET }, () =>
    Promise.all([cli(['inspect', p.dir, '--policy', p.policy]), cli(['inspect', p.dir, '--policy', p.policy, '--json'])]),
  );
  for (const run of [text, json]) {
    t.is(run.code, 0, run.stderr);
    t.false(`${run.stdout}${run.stderr}`.includes(SECRET));
  }
  t.regex(text.stdout, /env {9}AIRLOCK_TEST_SECRET_TOKEN \(set\), AIRLOCK_TEST_SECRET_UNSET \(not set\)/);
  t.deepEqual((JSON.parse(json.stdout) as { grants: { env: unknown } }).grants.env, [
    { name: 'AIRLOCK_TEST_SECRET_TOKEN', set: true },
    { name: 'AIRLOCK_TEST_SECRET_UNSET', set: false },
  ]);
});

test.serial('secret values: a refused env grant names the variable, not its value', async (t) => {
  const p = pluginAsking(['AIRLOCK_TEST_SECRET_TOKEN', 'OTHER_SECRET']);
  const runs = await withEnv({ AIRLOCK_TEST_SECRET_TOKEN: SECRET, OTHER_SECRET: SECRET }, () =>
    Promise.all([
      cli(['inspect', p.dir, '--policy', p.policy]),
      cli(['list', p.dir, '--policy', p.policy, '--json']),
      cli(['call', p.dir, 'echo', '--policy', p.policy, '--json']),
    ]),
  );
  for (const run of runs) {
    t.is(run.code, 1);
    t.regex(`${run.stdout}${run.stderr}`, /OTHER_SECRET is not allowed/);
    t.false(`${run.stdout}${run.stderr}`.includes(SECRET));
  }
});
