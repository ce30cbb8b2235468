/**
 * bin/airlock.js, the command's entry: an unsupported Node gets one line
 * naming the version needed before anything else runs; a supported one runs
 * the CLI.
 */
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from '../../src/paths.ts';
import { tempDir } from '../helpers/plugin.ts';
import { requireExternal } from '../helpers/require.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'airlock.js');
const ENGINES = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

function major(node: string): number {
  try {
    return Number(execFileSync(node, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim());
  } catch {
    return Number.NaN;
  }
}

/** A Node older than 22: AIRLOCK_OLD_NODE (CI fetches Node 20 into the cache, .ci/node.sh), the system's, or the cached one. */
const oldNode = [process.env.AIRLOCK_OLD_NODE, '/usr/bin/node', join(cacheRoot(), 'node-20', 'package', 'bin', 'node')].find(
  (p): p is string => p !== undefined && existsSync(p) && major(p) < 22,
);

function run(node: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(node, [BIN, ...args], { env, cwd: tempDir(), timeout: 120_000 }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

if (requireExternal('old-node', oldNode !== undefined, 'no Node older than 22 here (set AIRLOCK_OLD_NODE, or see .ci/node.sh)')) {
  test('on Node 20, airlock prints one line naming the Node version needed (package.json engines) and exits 1, before doing anything else', async (t) => {
    const cache = join(tempDir(), 'cache');
    const r = await run(oldNode as string, ['call', join(ROOT, 'fixtures', 'plugins', 'echo-js'), 'echo', '{"text":"hi"}'], {
      ...process.env,
      AIRLOCK_CACHE_DIR: cache,
    });
    t.is(r.code, 1);
    t.is(r.stdout, '');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    t.is(lines.length, 1, r.stderr);
    const [, maj, min] = /^>=\s*(\d+)\.(\d+)/.exec(ENGINES) ?? [];
    t.regex(lines[0] ?? '', new RegExp(`^airlock: needs Node\\.js ${maj}\\.${min} or newer \\(package\\.json engines: ${ENGINES}\\), but this is Node 20\\.`));
    t.regex(lines[0] ?? '', /install Node 24 LTS/);
    // Nothing ran: not even the cache root was created.
    t.false(existsSync(cache));
  });
  test('in the checkout, `npx airlock` on Node 20 runs bin/airlock.js: the same one line', async (t) => {
    const bin = dirname(oldNode as string);
    // npm's npx (a Node script), run by the old Node, which is also first on PATH for the command's own `#!/usr/bin/env node`.
    const npx = realpathSync(execFileSync('sh', ['-c', 'command -v npx'], { encoding: 'utf8' }).trim());
    const [file, args] = npx.endsWith('.js') ? [oldNode as string, [npx]] : [npx, []];
    const r = await new Promise<{ code: number; stderr: string }>((done) => {
      execFile(
        file,
        [...args, '--no-install', 'airlock', '--version'],
        { cwd: ROOT, env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` }, timeout: 120_000 },
        (err, _out, stderr) => done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stderr }),
      );
    });
    t.is(r.code, 1, r.stderr);
    // npm may first warn about the engines field itself (EBADENGINE, npm's own lines); Airlock's is the one line after.
    const ours = r.stderr
      .split('\n')
      .filter((l) => !l.startsWith('npm warn '))
      .join('\n');
    t.regex(ours, /^airlock: needs Node\.js \d+\.\d+ or newer \(package\.json engines: .*\), but this is Node 20\.[^\n]*\n$/);
  });
} else test.skip('on Node 20, airlock prints one line naming the Node version needed', () => {});

test('on a supported Node, bin/airlock.js runs the CLI and passes its exit status', async (t) => {
  const version = await run(process.execPath, ['--version']);
  t.is(version.code, 0, version.stderr);
  t.regex(version.stdout, /^\d+\.\d+\.\d+/);
  const bad = await run(process.execPath, ['validate', join(tempDir(), 'nothing-here')]);
  t.is(bad.code, 1);
  t.regex(bad.stdout, /nothing-here: no such file or folder/);
  t.is((await run(process.execPath, ['no-such-command'])).code, 2);
});

test('package.json names bin/airlock.js as the command and ships it', (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; files: string[] };
  t.is(pkg.bin.airlock, 'bin/airlock.js');
  t.true(pkg.files.includes('bin'));
});

test("the command keeps V8's compile cache under the Airlock cache, for the next fresh process", async (t) => {
  const cache = join(tempDir(), 'cache');
  const { NODE_DISABLE_COMPILE_CACHE: _, ...env } = process.env;
  const r = await run(process.execPath, ['validate', join(ROOT, 'fixtures', 'plugins', 'echo-c')], { ...env, AIRLOCK_CACHE_DIR: cache });
  t.is(r.code, 0, r.stderr);
  const kept = readdirSync(join(cache, 'v8-compile'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  t.true(kept.length > 0, 'the modules the command loaded are cached');
});
