/**
 * Building from source must not let a plugin author read host files into
 * the component: the compiler runs sandboxed (bubblewrap) and symlinks out
 * of the plugin folder are refused.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildPlugin } from '../../src/build/index.ts';
import { buildLimits, DEFAULT_BUILD_LIMITS, type BuildLimits } from '../../src/build/limits.ts';
import { runSandboxed, sandboxed } from '../../src/build/sandbox.ts';
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
  writeFileSync(
    join(dir, 'plugin.yaml'),
    `apiVersion: airlock/v1\nname: ${name}\nversion: 0.1.0\nruntime: wasm\nentry: ${Object.keys(files)[0]}\ntools:\n  - { name: echo, description: Echo, input: { type: object } }\n`,
  );
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

test('a build step runs under prlimit and bubblewrap: plugin folder read-only, no network, no capabilities, no host env', (t) => {
  const mounts = { readOnly: [tmp], writable: [cacheRoot], cwd: tmp };
  const { file, args } = sandboxed('clang', ['-v'], mounts, 'x.c', { bwrap: '/usr/bin/bwrap', prlimit: '/usr/bin/prlimit', nproc: true });
  t.is(file, '/usr/bin/prlimit');
  const joined = args.join(' ');
  t.regex(joined, /^--data=\d+ --cpu=\d+:\d+ --fsize=\d+ --core=0 --nproc=\d+ -- \/usr\/bin\/bwrap --ro-bind \/usr \/usr /);
  t.true(joined.includes(` --ro-bind ${tmp} ${tmp} --bind ${cacheRoot} ${cacheRoot} `));
  for (const flag of ['--unshare-all', '--clearenv', '--die-with-parent', '--uid 65534', '--tmpfs /tmp']) t.true(joined.includes(flag), flag);
  t.regex(joined, /--size \d+ --tmpfs \/tmp/);
  t.true(joined.endsWith(` --chdir ${tmp} clang -v`));
});

test('without bubblewrap a build step is refused, unless AIRLOCK_UNSANDBOXED_BUILDS=1 trusts the plugin (limits still apply)', (t) => {
  const mounts = { readOnly: [tmp], writable: [], cwd: tmp };
  const err = t.throws(() => sandboxed('clang', ['-v'], mounts, 'x.c', { bwrap: null, env: {} }));
  t.true(isAirlockError(err, 'build-failed'));
  t.regex(err?.message ?? '', /^x\.c: refusing to build the plugin's code without a sandbox/);
  t.deepEqual(sandboxed('clang', ['-v'], mounts, 'x.c', { bwrap: null, prlimit: null, env: { AIRLOCK_UNSANDBOXED_BUILDS: '1' } }), {
    file: 'clang',
    args: ['-v'],
  });
  const limited = sandboxed('clang', ['-v'], mounts, 'x.c', { bwrap: null, prlimit: '/usr/bin/prlimit', env: { AIRLOCK_UNSANDBOXED_BUILDS: '1' } });
  t.is(limited.file, '/usr/bin/prlimit');
  t.deepEqual(limited.args.slice(-3), ['--', 'clang', '-v']);
});

// A native program in the sandbox, as a compromised toolchain (or code past the
// wasm layer of componentize-py/-js) would be, with componentize-py's mounts.
const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
const prefix = execFileSync(python, ['-c', 'import sys; print(sys.prefix)'], { encoding: 'utf8' }).trim();
const sitePackages = JSON.parse(execFileSync(python, ['-c', 'import json, site; print(json.dumps(site.getsitepackages()))'], { encoding: 'utf8' })) as string[];

test('native code in the sandbox cannot write site-packages or $HOME, read a host file, reach the host or see its env', async (t) => {
  const out = join(tmp, 'native-out');
  mkdirSync(out, { recursive: true });
  const server = createServer((s) => s.destroy());
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  t.teardown(() => server.close());
  const script = `
import os, socket, sys
got = []
for d in ${JSON.stringify([...sitePackages, homedir(), dirname(process.execPath)])}:
    try:
        open(os.path.join(d, 'airlock_escape.pth'), 'w').write('x'); got.append('write ' + d)
    except OSError: pass
try:
    open(${JSON.stringify(secret)}).read(); got.append('read secret')
except OSError: pass
try:
    socket.create_connection(('127.0.0.1', ${(server.address() as { port: number }).port}), 2); got.append('network')
except OSError: pass
got += [k for k in ('AIRLOCK_CACHE_DIR',) if k in os.environ]
# The host's RUST_BACKTRACE=1 does not reach it: the sandbox sets its own 0 (no backtraces in build errors).
if os.environ.get('RUST_BACKTRACE') != '0': got.append('RUST_BACKTRACE')
open(${JSON.stringify(join(out, 'ok'))}, 'w').write('written')
print('GOT', got)
`;
  const env = { ...process.env, RUST_BACKTRACE: '1' };
  const stdout = await runSandboxed(python, ['-c', script], { readOnly: [prefix], writable: [out], cwd: out }, 'native', { env });
  t.is(stdout.trim(), 'GOT []');
  t.is(readFileSync(join(out, 'ok'), 'utf8'), 'written');
  for (const d of sitePackages) t.false(existsSync(join(d, 'airlock_escape.pth')));
});

const limited = (over: Partial<BuildLimits>): BuildLimits => ({ ...DEFAULT_BUILD_LIMITS, ...over });
const scratch = (): { readOnly: string[]; writable: string[]; cwd: string } => {
  const d = mkdtempSync(join(tmp, 'limit-'));
  return { readOnly: [], writable: [d], cwd: d };
};

test('a step past its wall time is killed whole and fails naming the limit', async (t) => {
  const marker = `600.${process.pid}${Date.now() % 100000}`;
  const err = await t.throwsAsync(
    runSandboxed('sh', ['-c', `sleep ${marker} & sleep ${marker}`], scratch(), 'slow.c', { limits: limited({ wallSeconds: 1 }) }),
  );
  t.true(isAirlockError(err, 'build-failed'));
  t.regex(err?.message ?? '', /^slow\.c: the build went past its wall-time limit \(1 s\); .*AIRLOCK_BUILD_TIMEOUT/);
  // Both sleeps, the background one included, die with the sandbox's pid namespace.
  const alive = (): boolean => spawnSync('pgrep', ['-f', `sleep ${marker}`]).status === 0;
  for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  t.false(alive());
});

test('a step that spins stops at its CPU-time limit, named', async (t) => {
  const err = await t.throwsAsync(runSandboxed('sh', ['-c', 'while :; do :; done'], scratch(), 'spin.c', { limits: limited({ cpuSeconds: 1 }) }));
  t.true(isAirlockError(err, 'build-failed'));
  t.regex(err?.message ?? '', /the build went past its CPU-time limit \(1 s of CPU\); .*AIRLOCK_BUILD_CPU_SECONDS/);
});

test('a fork bomb stops at the process limit and fails naming it', async (t) => {
  const err = await t.throwsAsync(
    runSandboxed('sh', ['-c', 'for i in $(seq 1 100); do sleep 30 & done; wait'], scratch(), 'bomb.c', { limits: limited({ processes: 20 }) }),
  );
  t.true(isAirlockError(err, 'build-failed'));
  t.regex(err?.message ?? '', /the build went past its process-count limit \(20 processes\); .*AIRLOCK_BUILD_PROCESSES/);
});

// As root with a memory cgroup to make: the step's processes together, not only each one, are bounded.
const memoryCgroup =
  process.getuid?.() === 0 && (existsSync('/sys/fs/cgroup/memory') || readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').includes('memory'));
(memoryCgroup ? test.serial : test.skip)('processes that each stay under the memory limit but together exceed it are stopped, named', async (t) => {
  const script = `
import subprocess, sys, time
ps = [subprocess.Popen([sys.executable, '-c', "x = b'x' * (300 << 20); import time; time.sleep(30)"]) for _ in range(3)]
while any(p.poll() is None for p in ps):
    if any(p.poll() not in (None, 0) for p in ps): sys.exit(1)
    time.sleep(0.05)
`;
  const err = await t.throwsAsync(
    runSandboxed(python, ['-c', script], { ...scratch(), readOnly: [prefix] }, 'hog.c', { limits: limited({ memoryMiB: 400, tmpMiB: 16 }) }),
  );
  t.true(isAirlockError(err, 'build-failed'), String(err));
  t.regex(err?.message ?? '', /the build went past its memory limit \(400 MiB per process\); .*AIRLOCK_BUILD_MEMORY_MB/);
});

test('a step cannot write a file past the file-size limit', async (t) => {
  const m = scratch();
  const err = await t.throwsAsync(runSandboxed('sh', ['-c', `head -c 3000000 /dev/zero > ${m.cwd}/big`], m, 'big.c', { limits: limited({ fileMiB: 1 }) }));
  t.true(isAirlockError(err, 'build-failed'));
  t.regex(err?.message ?? '', /the build went past its file-size limit \(1 MiB per file\); .*AIRLOCK_BUILD_FILE_MB/);
  t.is(statSync(join(m.cwd, 'big')).size, 1024 * 1024);
});

test("a step's stdout and stderr are kept only up to the output bound", async (t) => {
  const stdout = await runSandboxed('sh', ['-c', 'head -c 20000000 /dev/zero | tr "\\\\0" x; head -c 20000000 /dev/zero >&2'], scratch(), 'loud.c', {
    limits: limited({ outputKiB: 16 }),
  });
  t.is(stdout.length, 16 * 1024);
  t.regex(stdout, /^x+$/);
});

test('the limits come from one place: defaults, each overridden by its environment variable, bad values refused', (t) => {
  t.deepEqual(buildLimits({}), DEFAULT_BUILD_LIMITS);
  t.is(buildLimits({ AIRLOCK_BUILD_MEMORY_MB: '123' }).memoryMiB, 123);
  const err = t.throws(() => buildLimits({ AIRLOCK_BUILD_CPU_SECONDS: '-1' }));
  t.regex(err?.message ?? '', /AIRLOCK_BUILD_CPU_SECONDS=-1: not a positive whole number/);
});

test('a program is found on PATH without a shell: the first executable file, skipping folders, non-executables and empty entries', async (t) => {
  const { findOnPath } = await import('../../src/build/sandbox.ts');
  const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const root = mkdtempSync(join(tmpdir(), 'airlock-onpath-'));
  for (const d of ['a', 'b', 'c']) mkdirSync(join(root, d));
  mkdirSync(join(root, 'a', 'tool')); // a folder of that name
  writeFileSync(join(root, 'b', 'tool'), '', { mode: 0o644 }); // not executable
  writeFileSync(join(root, 'c', 'tool'), '#!/bin/sh\n', { mode: 0o755 });
  t.is(findOnPath('tool', ['', join(root, 'a'), join(root, 'b'), join(root, 'c')].join(':')), join(root, 'c', 'tool'));
  t.is(findOnPath('tool', join(root, 'a')), null);
  t.is(findOnPath('tool', undefined), null);
});
