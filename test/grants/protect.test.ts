/**
 * Filesystem grants refused whatever the policy allows: grants nested in a
 * read-write grant (review finding #1) and grants overlapping what the host
 * runs or controls (finding #4: the cache, Airlock's package, the Docker
 * socket). The environment is changed per test, so these run serially.
 */
import test from 'ava';
import { mkdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AirlockError } from '../../src/errors.ts';
import { computeGrants, policyFromObject } from '../../src/grants/index.ts';
import { enclosingNodeModules, PACKAGE_ROOT } from '../../src/grants/protected.ts';
import { cacheDir, cacheRoot } from '../../src/paths.ts';
import { manifestObject, tempDir, writePlugin } from '../helpers/plugin.ts';

type Entry = { path: string; mount: string; access?: 'read' | 'read-write' };

function denied(t: import('ava').ExecutionContext, fn: () => unknown): AirlockError {
  const err = t.throws(fn, { instanceOf: AirlockError });
  t.is(err.code, 'permission-denied');
  return err;
}

/** A plugin in `<root>/plugin` asking for `entries`, under a policy allowing `<root>` read-write. */
function ask(root: string, entries: Entry[], policyRoot = root) {
  const plugin = writePlugin(manifestObject({ permissions: { filesystem: entries } }), { 'main.py': '' }, join(root, 'plugin'));
  return () => computeGrants(plugin, policyFromObject({ filesystem: [{ path: policyRoot, access: 'read-write' }] }));
}

function withEnv(t: import('ava').ExecutionContext, vars: Record<string, string>): void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

function folders(root: string, ...names: string[]): void {
  for (const n of names) mkdirSync(join(root, n), { recursive: true });
}

test.serial('a grant inside (or equal to) a read-write grant is refused, each problem naming both entries with its line', (t) => {
  const root = realpathSync(tempDir());
  folders(root, 'plugin/w/sub', 'plugin/w/other', 'plugin/r/rw');
  const err = denied(
    t,
    ask(root, [
      { path: './w', mount: '/w', access: 'read-write' },
      { path: './w/sub', mount: '/sub' },
      { path: './w/other', mount: '/other', access: 'read-write' },
    ]),
  );
  t.deepEqual(
    err.problems.map((p) => p.path),
    ['permissions.filesystem[1].path', 'permissions.filesystem[2].path'],
  );
  for (const p of err.problems) {
    t.true((p.line ?? 0) > 1 && (p.column ?? 0) > 0, `${p.path} has line:column`);
    t.regex(p.message, /"\.\/w" \(.*permissions\.filesystem\[0\]\)/);
    t.regex(p.message, /symlink/);
    t.truthy(p.hint);
  }
  t.true(err.problems[0]!.message.startsWith(`"./w/sub" (${join(root, 'plugin/w/sub')}) lies inside`));
  // The same folder twice: refused whenever one of the two is read-write (the read one, or both when both are).
  const same = denied(
    t,
    ask(root, [
      { path: './w', mount: '/a', access: 'read-write' },
      { path: 'w/', mount: '/b' },
    ]),
  );
  t.deepEqual(
    same.problems.map((p) => p.path),
    ['permissions.filesystem[1].path'],
  );
  t.regex(same.problems[0]!.message, /is the same folder as the read-write grant "\.\/w"/);
  const both = denied(
    t,
    ask(root, [
      { path: './w', mount: '/a', access: 'read-write' },
      { path: 'w/', mount: '/b', access: 'read-write' },
    ]),
  );
  t.deepEqual(
    both.problems.map((p) => p.path),
    ['permissions.filesystem[0].path', 'permissions.filesystem[1].path'],
  );
  t.regex(both.problems[0]!.message, /"w\/"/);
  t.regex(both.problems[1]!.message, /"\.\/w"/);
});

test.serial('nesting is allowed when the outer grant is read-only, and siblings are fine', (t) => {
  const root = realpathSync(tempDir());
  folders(root, 'plugin/r/rw', 'plugin/a', 'plugin/b');
  const g = computeGrants(
    writePlugin(
      manifestObject({
        permissions: {
          filesystem: [
            { path: './r', mount: '/r' },
            { path: './r/rw', mount: '/rw', access: 'read-write' },
            { path: './a', mount: '/a', access: 'read-write' },
            { path: './b', mount: '/b', access: 'read-write' },
            { path: './r', mount: '/r2' },
          ],
        },
      }),
      { 'main.py': '' },
      join(root, 'plugin'),
    ),
    policyFromObject({ filesystem: [{ path: root, access: 'read-write' }] }),
  );
  t.deepEqual(
    g.filesystem.map((f) => f.mount),
    ['/r', '/rw', '/a', '/b', '/r2'],
  );
});

test.serial("a grant containing or inside Airlock's cache is refused, for read as well as read-write", (t) => {
  const root = realpathSync(tempDir());
  withEnv(t, { AIRLOCK_CACHE_DIR: join(root, 'plugin', 'cache') });
  folders(root, 'plugin/cache/transpiled', 'plugin/data');
  for (const [entry, how] of [
    [{ path: '.', mount: '/p' }, 'contains'],
    [{ path: './cache', mount: '/c' }, 'is'],
    [{ path: './cache/transpiled', mount: '/t', access: 'read-write' }, 'is inside'],
  ] as const) {
    const err = denied(t, ask(root, [entry]));
    t.is(err.problems.length, 1);
    t.is(err.problems[0]!.path, 'permissions.filesystem[0].path');
    t.true(err.problems[0]!.message.includes(`${how} Airlock's cache`), err.problems[0]!.message);
    t.regex(err.problems[0]!.hint ?? '', /AIRLOCK_CACHE_DIR/);
  }
  t.notThrows(ask(root, [{ path: './data', mount: '/d', access: 'read-write' }]));
});

test.serial('the cache is also found through a symlink to it', (t) => {
  const root = realpathSync(tempDir());
  folders(root, 'real-cache', 'plugin');
  symlinkSync(join(root, 'real-cache'), join(root, 'link-cache'));
  withEnv(t, { AIRLOCK_CACHE_DIR: join(root, 'link-cache') });
  denied(t, ask(root, [{ path: '../real-cache', mount: '/c' }]));
});

test.serial("a grant containing Airlock's package, or inside its code, is refused; other folders below it are not", (t) => {
  const parent = dirname(PACKAGE_ROOT);
  const root = realpathSync(tempDir());
  folders(root, 'plugin');
  const policy = policyFromObject({ filesystem: [{ path: parent, access: 'read' }] });
  const plugin = (path: string) =>
    writePlugin(manifestObject({ permissions: { filesystem: [{ path, mount: '/x' }] } }), { 'main.py': '' }, join(root, 'plugin'));
  for (const path of [
    PACKAGE_ROOT,
    join(PACKAGE_ROOT, 'src'),
    join(PACKAGE_ROOT, 'src', 'grants'),
    join(PACKAGE_ROOT, 'runtimes'),
    join(PACKAGE_ROOT, 'wit'),
    join(PACKAGE_ROOT, 'package.json'),
  ]) {
    const err = denied(t, () => computeGrants(plugin(path), policy));
    t.regex(err.problems[0]!.message, /Airlock's own/, path);
  }
  // Plugin fixtures live below the package in a checkout; granting them is fine.
  t.is(computeGrants(plugin(join(PACKAGE_ROOT, 'fixtures')), policy).filesystem.length, 1);
});

test.serial('installed as a dependency, the node_modules holding it is protected too', (t) => {
  t.is(enclosingNodeModules('/p/node_modules/airlock'), '/p/node_modules');
  t.is(enclosingNodeModules('/p/node_modules/x/node_modules/@scope/airlock'), '/p/node_modules');
  t.is(enclosingNodeModules('/home/me/src/airlock'), undefined);
});

test.serial('a grant holding a Docker socket is refused: the default paths and the one in DOCKER_HOST', (t) => {
  const root = realpathSync(tempDir());
  folders(root, 'plugin/run');
  writeFileSync(join(root, 'plugin/run/docker.sock'), '');
  withEnv(t, { DOCKER_HOST: `unix://${join(root, 'plugin/run/docker.sock')}` });
  for (const path of ['./run', './run/docker.sock', '.']) {
    const err = denied(t, ask(root, [{ path, mount: '/x' }]));
    t.regex(err.problems[0]!.message, /Docker daemon socket/, path);
  }
  withEnv(t, { DOCKER_HOST: 'tcp://127.0.0.1:2375' });
  t.notThrows(ask(root, [{ path: './run', mount: '/x' }]));
  // /var/run/docker.sock: reachable as /run or /var/run, whether or not a daemon is there.
  for (const path of ['/run', '/var/run']) {
    const err = denied(t, ask(root, [{ path, mount: '/x' }], '/'));
    t.regex(err.problems[0]!.message, /contains a Docker daemon socket/, path);
  }
});

test.serial('the cache root is created mode 0700', (t) => {
  const root = realpathSync(tempDir());
  withEnv(t, { AIRLOCK_CACHE_DIR: join(root, 'a', 'cache') });
  t.is(cacheRoot(), join(root, 'a', 'cache'));
  t.is(cacheDir('x', 'y'), join(root, 'a', 'cache', 'x', 'y'));
  t.is(statSync(join(root, 'a', 'cache')).mode & 0o777, 0o700);
  t.is(statSync(join(root, 'a')).mode & 0o777, 0o700);
});
