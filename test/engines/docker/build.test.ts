/**
 * Image builds run no plugin code: npm scripts are ignored, pip installs
 * wheels only and never builds the plugin's own project, dependency files
 * are reduced to plain requirements, and the build is bounded in time.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { isAirlockError } from '../../../src/errors.ts';
import { manifestObject, writePlugin } from '../../helpers/plugin.ts';
import { DOCKER, engine, grantsFor } from './helpers.ts';

const t = DOCKER ? test : test.skip;
const docker = engine();
test.after.always(() => docker.close());

t('package.json scripts (preinstall, install, postinstall, prepare) do not run during the build', async (t) => {
  const p = await docker.load(grantsFor('node-postinstall'));
  t.deepEqual(JSON.parse((await p.call('markers', '{}')).output), []);
  await p.close();
});

t("a pyproject.toml contributes its dependencies; the project's setup.py never runs", async (t) => {
  const p = await docker.load(grantsFor('python-setup'));
  t.deepEqual(JSON.parse((await p.call('markers', '{}')).output), { markers: [], humanize: true });
  await p.close();
});

for (const [what, line, message] of [
  ['an editable install of the plugin itself', '-e .', /pip options are not accepted.*'-e'/],
  ['a direct reference', 'evil @ https://example.invalid/evil-1.0.tar.gz', /direct reference/],
  ['an option that undoes --only-binary', '--no-binary :all:', /pip options are not accepted/],
] as const) {
  t(`a requirements file with ${what} fails the build, naming the line`, async (t) => {
    const plugin = writePlugin(manifestObject({ name: 'python-badreq2' }), { 'main.py': '', 'requirements.txt': `# ${randomUUID()}\nhumanize==4.9.0\n${line}\n` });
    const err = await t.throwsAsync(docker.build(grantsFor(plugin.dir)));
    t.true(isAirlockError(err, 'build-failed'), String(err));
    t.regex(err!.message, /requirements\.txt line 3/);
    t.regex(err!.message, message);
  });
}

t('build args that change what the install runs are refused', async (t) => {
  const plugin = writePlugin(manifestObject({ name: 'node-badarg', runtime: 'node', entry: 'index.mjs' }), { 'index.mjs': '', 'package.json': '{}' });
  for (const name of ['NODE_OPTIONS', 'PATH', 'npm_config_ignore_scripts', 'PIP_NO_BINARY', 'LD_PRELOAD']) {
    const err = await t.throwsAsync(docker.build(grantsFor(plugin.dir), { build: { args: { [name]: 'x' } } }));
    t.true(isAirlockError(err, 'invalid-manifest'), `${name}: ${String(err)}`);
    t.regex(err!.message, new RegExp(`build\\.args\\.${name}`));
  }
  const deps = await t.throwsAsync(docker.build(grantsFor(plugin.dir), { build: { dependencies: 'x\nVOLUME /v\n#/package.json' } }));
  t.true(isAirlockError(deps, 'invalid-manifest'), String(deps));
});

t('a build past its timeout is cancelled and fails with build-failed', async (t) => {
  const short = engine({ buildLimits: { timeoutMs: 1 } });
  // A nonce, so no earlier run has built (and cached) this content.
  const plugin = writePlugin(manifestObject({ name: 'python-slowbuild' }), { 'main.py': `# ${randomUUID()}\n` });
  const err = await t.throwsAsync(short.build(grantsFor(plugin.dir)));
  t.true(isAirlockError(err, 'build-failed'), String(err));
  t.regex(err!.message, /past its timeout of 1 ms/);
});
