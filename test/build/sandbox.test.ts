/**
 * Building from source must not let a plugin author read host files into
 * the component: the compiler runs sandboxed (bubblewrap) and symlinks out
 * of the plugin folder are refused.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugin } from '../../src/build/index.ts';
import { sandboxed } from '../../src/build/sandbox.ts';
import { isAirlockError } from '../../src/errors.ts';

const tmp = mkdtempSync(join(tmpdir(), 'airlock-sandbox-test-'));
const cacheRoot = join(tmp, 'cache');
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

// A host file outside the plugin folder, standing in for ~/.ssh/id_rsa.
const secretDir = mkdtempSync(join(tmpdir(), 'airlock-host-secret-'));
const secret = join(secretDir, 'id_rsa');
writeFileSync(secret, 'HOST-SECRET-KEY\n');
test.after.always(() => rmSync(secretDir, { recursive: true, force: true }));

function plugin(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'plugin.yaml'), `apiVersion: airlock/v1\nname: ${name}\nversion: 0.1.0\nruntime: wasm\nentry: ${Object.keys(files)[0]}\ntools:\n  - { name: echo, description: Echo, input: { type: object } }\n`);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

test('a C source that includes a host file by absolute path does not compile: the file is not in the sandbox', async (t) => {
  const dir = plugin('incbin', {
    'steal.c': `__asm__(".section .rodata.s,\\"\\",@\\n.globl s\\ns:\\n.incbin \\"${secret}\\"\\n.size s, 16\\n");\n#include "${secret}"\n`,
  });
  const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot }));
  t.true(isAirlockError(err, 'build-failed'), String(err));
  t.regex(err?.message ?? '', /clang failed[\s\S]*(No such file|not found|Could not find)/);
});

test('a symlink leading out of the plugin folder is refused before any toolchain reads it', async (t) => {
  const dir = plugin('link-out', { 'main.py': 'import json\n' });
  symlinkSync(secret, join(dir, 'data.txt'));
  const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot }));
  t.true(isAirlockError(err, 'build-failed'), String(err));
  t.regex(err?.message ?? '', /data\.txt: a symlink leading outside the plugin folder \(to .*id_rsa\)/);
});

test('a compiler runs under bubblewrap with the plugin folder read-only, no network and no host env', (t) => {
  const mounts = { readOnly: [tmp], writable: [cacheRoot], cwd: tmp };
  const { file, args } = sandboxed('clang', ['-v'], mounts, 'x.c', { bwrap: '/usr/bin/bwrap' });
  t.is(file, '/usr/bin/bwrap');
  const joined = args.join(' ');
  t.true(joined.startsWith('--ro-bind /usr /usr '));
  t.true(joined.includes(` --ro-bind ${tmp} ${tmp} --bind ${cacheRoot} ${cacheRoot} `));
  for (const flag of ['--unshare-all', '--clearenv', '--die-with-parent', '--tmpfs /tmp']) t.true(joined.includes(flag), flag);
  t.true(joined.endsWith(` --chdir ${tmp} clang -v`));
});

test('without bubblewrap a source build is refused, unless AIRLOCK_UNSANDBOXED_BUILDS=1 trusts the sources', (t) => {
  const mounts = { readOnly: [tmp], writable: [], cwd: tmp };
  const err = t.throws(() => sandboxed('clang', ['-v'], mounts, 'x.c', { bwrap: null, env: {} }));
  t.true(isAirlockError(err, 'build-failed'));
  t.regex(err?.message ?? '', /^x\.c: refusing to run the compiler .* without a sandbox/);
  t.deepEqual(sandboxed('clang', ['-v'], mounts, 'x.c', { bwrap: null, env: { AIRLOCK_UNSANDBOXED_BUILDS: '1' } }), { file: 'clang', args: ['-v'] });
});
