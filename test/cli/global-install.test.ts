/**
 * The documented install outside the checkout: `npm pack`, then `npm install
 * -g <tarball>` (here into a temporary prefix), then `airlock` from any
 * folder. Proves the package ships what the command needs (bin/, dist/ built
 * by `prepare`, runtimes/, wit/) and nothing it must not (src/). Slow: the
 * install fetches the dependencies (from npm's cache when it has them).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { tempDir } from '../helpers/plugin.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test.serial('npm pack + npm install -g: airlock answers a call from another folder, with the packed files only', async (t) => {
  t.timeout(20 * 60_000);
  const work = tempDir('airlock-global-');
  const npm = { env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' }, maxBuffer: 64 << 20 };
  // `prepare` compiles dist/ as part of packing.
  const packed = await run('npm', ['pack', '--silent', '--pack-destination', work], { ...npm, cwd: ROOT });
  const tarball = join(work, packed.stdout.trim().split('\n').at(-1) ?? '');
  t.true(existsSync(tarball), packed.stdout);
  const listing = (await run('tar', ['tzf', tarball], npm)).stdout.split('\n');
  for (const needed of [
    'package/bin/airlock.js',
    'package/dist/bundle/airlock.cjs',
    'package/dist/bundle/index.js',
    'package/dist/cli/main.js',
    'package/wit/airlock-plugin.wit',
    'package/package.json',
  ])
    t.true(listing.includes(needed), `${needed} is packed`);
  t.true(
    listing.some((f) => f.startsWith('package/runtimes/')),
    'runtimes/ is packed',
  );
  t.false(
    listing.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/')),
    'no sources or tests',
  );

  const prefix = join(work, 'prefix');
  await run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', tarball], { ...npm, cwd: work });
  const installed = join(prefix, 'lib', 'node_modules', 'airlock');
  t.false(existsSync(join(installed, 'src')));
  t.deepEqual(readdirSync(join(prefix, 'bin')), ['airlock']);

  // From an unrelated folder, with a plugin outside the checkout and a cache of its own.
  const elsewhere = tempDir();
  const plugin = join(tempDir(), 'third-party');
  cpSync(join(FIXTURES_DIR, 'third-party'), plugin, { recursive: true });
  const env = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`, AIRLOCK_CACHE_DIR: join(work, 'cache') };
  const version = await run('airlock', ['--version'], { env, cwd: elsewhere });
  t.regex(version.stdout, /^\d+\.\d+\.\d+/);
  const call = await run('airlock', ['call', plugin, 'echo', '{"text":"installed"}'], { env, cwd: elsewhere });
  t.deepEqual(JSON.parse(call.stdout), { text: 'installed' });
  const validate = await run('airlock', ['validate', plugin], { env, cwd: elsewhere });
  t.regex(validate.stdout, /^ok .*third-party@1\.0\.0/);
});
