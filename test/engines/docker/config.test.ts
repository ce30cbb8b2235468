/** Engine settings: images, extra CA, registry build args (no Docker needed). */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_IMAGES, hostRegistryArgs, resolveDockerConfig } from '../../../src/engines/docker/config.ts';
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
  t.true(isAirlockError(t.throws(() => resolveDockerConfig({ registryArgs: {} }, { AIRLOCK_EXTRA_CA: join(dir, 'bad.pem') })), 'engine-unavailable'));
  t.true(isAirlockError(t.throws(() => resolveDockerConfig({ registryArgs: {}, extraCa: join(dir, 'missing.pem') }, {})), 'engine-unavailable'));
});

test('registry build args come from env, .npmrc and pip.conf, never with credentials', (t) => {
  const home = tempDir();
  writeFileSync(join(home, '.npmrc'), 'registry=https://npm.example/\n//npm.example/:_authToken=SECRET\n');
  const args = hostRegistryArgs({ PIP_INDEX_URL: 'https://user:pass@pypi.example/simple', PIP_CONFIG_FILE: join(home, 'none') }, home);
  t.is(args.npm_config_registry, 'https://npm.example/');
  t.false('PIP_INDEX_URL' in args);
  t.false(JSON.stringify(args).includes('SECRET'));
  t.deepEqual(hostRegistryArgs({ npm_config_registry: 'https://r.example/', PIP_CONFIG_FILE: join(home, 'none') }, tempDir()).npm_config_registry, 'https://r.example/');
});
