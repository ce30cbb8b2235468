/** Engine settings: images, extra CA, registry build args, build limits and network (no Docker needed). */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registryHosts } from '../../../src/engines/docker/build.ts';
import { DEFAULT_BUILD_LIMITS, DEFAULT_IMAGES, hostRegistryArgs, resolveDockerConfig } from '../../../src/engines/docker/config.ts';
import { isAirlockError } from '../../../src/errors.ts';
import { tempDir } from '../../helpers/plugin.ts';

test('images: option, then env, then the official defaults', (t) => {
  t.deepEqual(resolveDockerConfig({ registryArgs: {} }, {}).images, DEFAULT_IMAGES);
  t.deepEqual(resolveDockerConfig({ registryArgs: {} }, { AIRLOCK_NODE_IMAGE: 'n:1' }).images, { node: 'n:1', python: DEFAULT_IMAGES.python });
  t.deepEqual(resolveDockerConfig({ registryArgs: {}, images: { python: 'p:2' } }, { AIRLOCK_PYTHON_IMAGE: 'x' }).images.python, 'p:2');
});

test('the extra CA must be a readable PEM bundle', (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  writeFileSync(join(dir, 'bad.pem'), 'not a cert');
  t.is(resolveDockerConfig({ registryArgs: {} }, { AIRLOCK_EXTRA_CA: join(dir, 'ca.pem') }).extraCa, join(dir, 'ca.pem'));
  t.is(resolveDockerConfig({ registryArgs: {}, extraCa: null }, { AIRLOCK_EXTRA_CA: join(dir, 'ca.pem') }).extraCa, undefined);
  t.true(
    isAirlockError(
      t.throws(() => resolveDockerConfig({ registryArgs: {} }, { AIRLOCK_EXTRA_CA: join(dir, 'bad.pem') })),
      'engine-unavailable',
    ),
  );
  t.true(
    isAirlockError(
      t.throws(() => resolveDockerConfig({ registryArgs: {}, extraCa: join(dir, 'missing.pem') }, {})),
      'engine-unavailable',
    ),
  );
});

test('registry build args come from env, .npmrc and pip.conf, never with credentials', (t) => {
  const home = tempDir();
  writeFileSync(join(home, '.npmrc'), 'registry=https://npm.example/\n//npm.example/:_authToken=SECRET\n');
  const args = hostRegistryArgs({ PIP_INDEX_URL: 'https://user:pass@pypi.example/simple', PIP_CONFIG_FILE: join(home, 'none') }, home);
  t.is(args.npm_config_registry, 'https://npm.example/');
  t.false('PIP_INDEX_URL' in args);
  t.false(JSON.stringify(args).includes('SECRET'));
  t.deepEqual(
    hostRegistryArgs({ npm_config_registry: 'https://r.example/', PIP_CONFIG_FILE: join(home, 'none') }, tempDir()).npm_config_registry,
    'https://r.example/',
  );
});

test('build limits: defaults, AIRLOCK_BUILD_TIMEOUT in seconds, options first; a bad value is refused', (t) => {
  t.deepEqual(resolveDockerConfig({ registryArgs: {} }, {}).buildLimits, DEFAULT_BUILD_LIMITS);
  t.is(resolveDockerConfig({ registryArgs: {} }, { AIRLOCK_BUILD_TIMEOUT: '90' }).buildLimits.timeoutMs, 90_000);
  t.is(resolveDockerConfig({ registryArgs: {}, buildLimits: { timeoutMs: 5 } }, { AIRLOCK_BUILD_TIMEOUT: '90' }).buildLimits.timeoutMs, 5);
  for (const bad of ['0', '-1', 'ten']) {
    const err = t.throws(() => resolveDockerConfig({ registryArgs: {} }, { AIRLOCK_BUILD_TIMEOUT: bad }));
    t.true(isAirlockError(err, 'engine-unavailable'), bad);
    t.regex(err!.message, /AIRLOCK_BUILD_TIMEOUT/);
  }
});

test('build network: registries by default, open on request; anything else is refused', (t) => {
  t.is(resolveDockerConfig({ registryArgs: {} }, {}).buildNetwork, 'registries');
  t.is(resolveDockerConfig({ registryArgs: {} }, { AIRLOCK_BUILD_NETWORK: 'open' }).buildNetwork, 'open');
  t.true(
    isAirlockError(
      t.throws(() => resolveDockerConfig({ registryArgs: {} }, { AIRLOCK_BUILD_NETWORK: 'host' })),
      'engine-unavailable',
    ),
  );
});

test("the build's registry hosts: npm's and PyPI's defaults, the host's registries (trusted) and the plugin's (not)", (t) => {
  t.deepEqual(registryHosts('node', {}, {}), [{ host: 'registry.npmjs.org', port: 443, trusted: true }]);
  t.deepEqual(registryHosts('python', {}, {}), [
    { host: 'pypi.org', port: 443, trusted: true },
    { host: 'files.pythonhosted.org', port: 443, trusted: true },
  ]);
  t.deepEqual(registryHosts('node', { npm_config_registry: 'http://npm.corp:8080/' }, {}), [{ host: 'npm.corp', port: 8080, trusted: true }]);
  t.deepEqual(
    registryHosts('python', { PIP_INDEX_URL: 'https://pypi.corp/simple' }, { PIP_EXTRA_INDEX_URL: 'https://a.example/simple https://b.example:8443/simple' }),
    [
      { host: 'pypi.corp', port: 443, trusted: true },
      { host: 'a.example', port: 443, trusted: false },
      { host: 'b.example', port: 8443, trusted: false },
    ],
  );
  // A plugin naming its own index replaces the default one; it is not trusted at private addresses.
  t.deepEqual(registryHosts('python', {}, { PIP_INDEX_URL: 'https://pypi.example/simple' }), [{ host: 'pypi.example', port: 443, trusted: false }]);
  t.deepEqual(registryHosts('node', {}, { npm_config_registry: 'file:///etc/' }), []);
});
