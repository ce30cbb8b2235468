import test from 'ava';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../../src/errors.ts';
import { computeGrants, defaultPolicy, loadPolicy, policyFromObject } from '../../src/grants/index.ts';
import { manifestObject, tempDir, writePlugin } from '../helpers/plugin.ts';

function denied(t: import('ava').ExecutionContext, fn: () => unknown): AirlockError {
  const err = t.throws(fn, { instanceOf: AirlockError });
  t.is(err.code, 'permission-denied');
  return err;
}

test('the default policy grants nothing beyond safe defaults', (t) => {
  const g = computeGrants(writePlugin(manifestObject()), defaultPolicy(), { env: { HOME: '/root', SECRET: 'x' } });
  t.is(g.network, null);
  t.deepEqual(g.filesystem, []);
  t.deepEqual(g.env, {});
  t.deepEqual(g.resources, {
    memoryBytes: 128 * 2 ** 20,
    cpu: 1,
    timeoutMs: 10_000,
    concurrency: 1,
    outputBytes: 2 ** 20,
    logBytes: 64 * 2 ** 10,
    queue: 256,
    diskBytes: 64 * 2 ** 20,
    files: 1000,
  });
  t.is(g.isolation, 'pooled');
  t.is(g.plugin.runtime, 'python');
  t.true(g.plugin.entry.endsWith('/main.py'));
});

test('the default policy refuses every permission asked, each listed with its manifest line', (t) => {
  const plugin = writePlugin(
    manifestObject({
      permissions: { network: { allow: ['api.example.com', 'b.example.com:443'] }, env: ['API_KEY'], filesystem: [{ path: '.', mount: '/self' }] },
    }),
  );
  const err = denied(t, () => computeGrants(plugin, defaultPolicy()));
  t.deepEqual(
    err.problems.map((p) => p.path),
    ['permissions.network.allow[0]', 'permissions.network.allow[1]', 'permissions.filesystem[0].path', 'permissions.env[0]'],
  );
  for (const p of err.problems) {
    t.is(p.file, plugin.file);
    t.true((p.line ?? 0) > 1, `${p.path} has a line`);
    t.truthy(p.hint);
  }
  t.regex(err.message, /api\.example\.com/);
  t.regex(err.message, /API_KEY/);
});

test('network: a policy entry covers a request only when it admits everything the request does', (t) => {
  const policy = policyFromObject({ network: { allow: ['*.example.com', 'api.other.org:443', '127.0.0.1', '127.0.0.1:8080'] } });
  const ok = computeGrants(
    writePlugin(
      manifestObject({
        permissions: { network: { allow: ['a.example.com', '*.b.example.com:443', '*.example.com', 'api.other.org:443', '127.0.0.1:8080', '127.0.0.1:80'] } },
      }),
    ),
    policy,
  );
  t.deepEqual(ok.network, {
    allow: [
      { host: 'a.example.com', wildcard: false },
      { host: 'b.example.com', wildcard: true, port: 443 },
      { host: 'example.com', wildcard: true },
      { host: 'api.other.org', wildcard: false, port: 443 },
      { host: '127.0.0.1', wildcard: false, port: 8080 },
      { host: '127.0.0.1', wildcard: false, port: 80 },
    ],
  });
  // The apex is not a subdomain; a port-less request would widen a port-limited entry; a port-less
  // policy entry admits ports 80 and 443 only, so it does not cover another port.
  const err = denied(t, () =>
    computeGrants(
      writePlugin(
        manifestObject({ permissions: { network: { allow: ['example.com', 'api.other.org', 'api.other.org:80', '*.b.example.com:8443', '127.0.0.1:22'] } } }),
      ),
      policy,
    ),
  );
  t.deepEqual(
    err.problems.map((p) => p.path),
    [0, 1, 2, 3, 4].map((i) => `permissions.network.allow[${i}]`),
  );
});

test('filesystem: relative paths resolve against the plugin folder and are canonicalized', (t) => {
  const dir = tempDir();
  const plugin = writePlugin(
    manifestObject({ permissions: { filesystem: [{ path: './data/../data', mount: '/data/', access: 'read-write' }] } }),
    { 'main.py': '', 'data/x.txt': 'x' },
    dir,
  );
  const g = computeGrants(plugin, policyFromObject({ filesystem: [{ path: dir, access: 'read-write' }] }));
  t.deepEqual(g.filesystem, [{ hostPath: join(plugin.dir, 'data'), mount: '/data', access: 'read-write' }]);
});

test('filesystem: `..` out of a policy root, symlinks pointing out, and missing paths are refused', (t) => {
  const root = tempDir();
  const outside = tempDir();
  mkdirSync(join(root, 'plugin'));
  symlinkSync(outside, join(root, 'plugin', 'sneaky'));
  const plugin = writePlugin(
    manifestObject({
      permissions: {
        filesystem: [
          { path: '../..', mount: '/up' },
          { path: './sneaky', mount: '/sneaky' },
          { path: './nope', mount: '/nope' },
          { path: '.', mount: '/ok' },
        ],
      },
    }),
    { 'main.py': '' },
    join(root, 'plugin'),
  );
  const err = denied(t, () => computeGrants(plugin, policyFromObject({ filesystem: [{ path: join(root, 'plugin'), access: 'read' }] })));
  t.deepEqual(
    err.problems.map((p) => p.path),
    ['permissions.filesystem[0].path', 'permissions.filesystem[1].path', 'permissions.filesystem[2].path'],
  );
  t.regex(err.problems[1]!.message, /not inside any folder/);
  t.regex(err.problems[2]!.message, /does not exist/);
});

test('filesystem: read-write under a read-only policy root is refused, read is granted', (t) => {
  const dir = tempDir();
  const policy = policyFromObject({ filesystem: [{ path: dir, access: 'read' }] });
  const rw = writePlugin(manifestObject({ permissions: { filesystem: [{ path: '.', mount: '/w', access: 'read-write' }] } }), { 'main.py': '' }, dir);
  const err = denied(t, () => computeGrants(rw, policy));
  t.regex(err.problems[0]!.message, /may only be read/);
  const ro = writePlugin(manifestObject({ permissions: { filesystem: [{ path: '.', mount: '/r' }] } }), { 'main.py': '' }, dir);
  t.is(computeGrants(ro, policy).filesystem[0]!.access, 'read');
});

test('env: only granted names pass, with the host value; unset ones are absent', (t) => {
  const plugin = writePlugin(manifestObject({ permissions: { env: ['WEATHER_KEY', 'WEATHER_UNITS', 'TZ'] } }));
  const g = computeGrants(plugin, policyFromObject({ env: ['WEATHER_*', 'TZ'] }), { env: { WEATHER_KEY: 'k', TZ: 'UTC', HOME: '/root' } });
  t.deepEqual(g.env, { WEATHER_KEY: 'k', TZ: 'UTC' });
  const err = denied(t, () => computeGrants(writePlugin(manifestObject({ permissions: { env: ['HOME'] } })), policyFromObject({ env: ['WEATHER_*'] })));
  t.regex(err.problems[0]!.message, /HOME is not allowed/);
});

test('resources: an explicit ask over a cap is refused; an unwritten default is lowered to the cap', (t) => {
  const policy = policyFromObject({ limits: { memory: '64Mi', timeout: '5s' } });
  const err = denied(t, () => computeGrants(writePlugin(manifestObject({ resources: { memory: '1Gi', timeout: '1m', concurrency: 2 } })), policy));
  t.deepEqual(
    err.problems.map((p) => p.path),
    ['resources.memory', 'resources.timeout'],
  );
  t.regex(err.problems[0]!.message, /1Gi is more than .* \(64Mi\)/);
  const g = computeGrants(writePlugin(manifestObject()), policy);
  t.is(g.resources.memoryBytes, 64 * 2 ** 20);
  t.is(g.resources.timeoutMs, 5000);
});

test('resources: disk and files flow into the grants, capped by limits.disk and limits.files like every resource', (t) => {
  const policy = policyFromObject({ limits: { disk: '16Mi', files: 100 } });
  const err = denied(t, () => computeGrants(writePlugin(manifestObject({ resources: { disk: '1Gi', files: 5000 } })), policy));
  t.deepEqual(
    err.problems.map((p) => p.path),
    ['resources.disk', 'resources.files'],
  );
  t.regex(err.problems[0]!.message, /disk 1Gi is more than .* \(16Mi\)/);
  t.regex(err.problems[0]!.hint ?? '', /limits\.disk/);
  const lowered = computeGrants(writePlugin(manifestObject()), policy);
  t.is(lowered.resources.diskBytes, 16 * 2 ** 20);
  t.is(lowered.resources.files, 100);
  const asked = computeGrants(writePlugin(manifestObject({ resources: { disk: '2Mi', files: 7 } })), defaultPolicy());
  t.is(asked.resources.diskBytes, 2 * 2 ** 20);
  t.is(asked.resources.files, 7);
  t.is(asked.unboundedWrites, undefined, 'no engine may write unbounded unless the policy says so');
  t.deepEqual(computeGrants(writePlugin(manifestObject()), policyFromObject({ unboundedWrites: ['docker'] })).unboundedWrites, ['docker']);
  t.throws(() => policyFromObject({ unboundedWrites: ['wasm' as 'docker'] }), { message: /unboundedWrites\.0: expected docker or wasmtime/ });
});

test('a per-call policy forces per-call isolation', (t) => {
  t.is(computeGrants(writePlugin(manifestObject()), policyFromObject({ isolation: 'per-call' })).isolation, 'per-call');
  t.is(computeGrants(writePlugin(manifestObject({ isolation: 'per-call' })), defaultPolicy()).isolation, 'per-call');
});

test("the policy's idle period reaches the grants, for every plugin or by plugin name; never and absent keep instances", (t) => {
  const plugin = writePlugin(manifestObject());
  const name = plugin.manifest.name;
  const idle = (p: Parameters<typeof policyFromObject>[0]) => computeGrants(plugin, policyFromObject(p)).idleMs;
  t.is(idle({}), undefined);
  t.is(idle({ idle: '10m' }), 600_000);
  t.is(idle({ idle: 'never' }), undefined);
  t.is(idle({ idle: { '*': '10m', [name]: '30s' } }), 30_000);
  t.is(idle({ idle: { '*': '10m', [name]: 'never' } }), undefined);
  t.is(idle({ idle: { '*': '10m', other: '30s' } }), 600_000);
  t.is(idle({ idle: { other: '30s' } }), undefined);
  t.throws(() => policyFromObject({ idle: 'soon' }), { message: /idle: expected a duration such as 30s or 10m, or never/ });
  t.throws(() => policyFromObject({ idle: { [name]: 'later' } }), { message: /idle\.demo: expected a duration such as 30s or 10m, or never/ });
});

test('policy files: every problem reported with file:line:column; relative paths resolve against the file', (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'bad.yaml'), 'limits:\n  memmory: 1Gi\nnetwork:\n  allow: ["http://x"]\nenv: ["A B"]\n');
  const err = t.throws(() => loadPolicy(join(dir, 'bad.yaml')), { instanceOf: AirlockError });
  t.is(err.code, 'invalid-policy');
  t.deepEqual(
    err.problems.map((p) => `${p.line}:${p.column} ${p.path}`),
    ['2:3 limits.memmory', '4:11 network.allow[0]', '5:7 env[0]'],
  );
  t.regex(err.problems[0]!.hint ?? '', /did you mean "memory"/);
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'ok.yaml'), 'filesystem:\n  - path: data\n    access: read-write\n');
  t.is(loadPolicy(join(dir, 'ok.yaml')).filesystem[0]!.path, join(dir, 'data'));
});
