/**
 * Hints for a Docker plugin's errors (src/engines/docker/hints.ts), each only where it matches: a missing
 * dependency (Node and Python), a granted folder uid 10001 may not use, a refused connection around a
 * loopback grant. The Docker cases run real plugins and check the CLI prints the hint.
 */
import test from 'ava';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { dockerHint } from '../../../src/engines/docker/hints.ts';
import { isAirlockError } from '../../../src/errors.ts';
import type { Grants } from '../../../src/grants/types.ts';
import { cli } from '../../helpers/cli.ts';
import { makeGrants } from '../../helpers/grants.ts';
import { manifestObject, tempDir, writePlugin } from '../../helpers/plugin.ts';
import { DOCKER, engine, grantsFor } from './helpers.ts';

const t = DOCKER ? test : test.skip;

const node = makeGrants({ plugin: { runtime: 'node', dir: '/p', entry: '/p/main.mjs' } });
const python = makeGrants({ plugin: { runtime: 'python', dir: '/p', entry: '/p/main.py' } });

test('a missing npm package gets a package.json hint naming it; a missing file an ignore-file hint; a builtin none', (t) => {
  const bare = dockerHint(
    node,
    'plugin-error',
    "loading /airlock/plugin/main.mjs: Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'left-pad' imported from /airlock/plugin/main.mjs",
  );
  t.regex(bare ?? '', /add "left-pad" to "dependencies" in package\.json/);
  t.regex(dockerHint(node, 'ERR_MODULE_NOT_FOUND', "Cannot find package '@scope/tool' imported from /airlock/plugin/x.mjs") ?? '', /"@scope\/tool"/);
  t.regex(dockerHint(node, 'MODULE_NOT_FOUND', "Cannot find module 'lodash/fp'\nRequire stack:\n- /airlock/plugin/main.cjs") ?? '', /add "lodash" to/);
  t.regex(
    dockerHint(node, 'ERR_MODULE_NOT_FOUND', "Cannot find module '/airlock/plugin/lib/util.mjs' imported from /airlock/plugin/main.mjs") ?? '',
    /not in the image.*\.airlockignore/,
  );
  t.is(dockerHint(node, 'ERR_UNKNOWN_BUILTIN_MODULE', "Cannot find module 'node:nope'"), undefined);
  // A Python message on a Node plugin is not a Node missing module.
  t.is(dockerHint(node, 'plugin-error', "ModuleNotFoundError: No module named 'yaml'"), undefined);
});

test('a missing Python module gets a requirements.txt hint naming its top-level package', (t) => {
  const h = dockerHint(python, 'plugin-error', "loading /airlock/plugin/main.py: ModuleNotFoundError: No module named 'yaml'");
  t.regex(h ?? '', /provides "yaml" to requirements\.txt/);
  t.regex(dockerHint(python, 'plugin-error', "ModuleNotFoundError: No module named 'google.protobuf'") ?? '', /provides "google"/);
  t.is(dockerHint(python, 'plugin-error', 'ValueError: bad input'), undefined);
});

test('EACCES under a grant says how to let uid 10001 in; elsewhere, or with no path, no hint', (t) => {
  const g: Grants = makeGrants({
    plugin: { runtime: 'python', dir: '/p', entry: '/p/main.py' },
    filesystem: [
      { hostPath: '/srv/out', mount: '/out', access: 'read-write' },
      { hostPath: '/srv/in', mount: '/in', access: 'read' },
    ],
  });
  t.regex(dockerHint(g, 'EACCES', "PermissionError: [Errno 13] Permission denied: '/out/x.txt'") ?? '', /sudo chown -R 10001:10001 \/srv\/out/);
  t.regex(dockerHint(g, 'EACCES', "EACCES: permission denied, open '/in/secret'") ?? '', /\/srv\/in is granted at \/in.*not let read there.*u:10001:rX/);
  t.is(dockerHint(g, 'EACCES', "EACCES: permission denied, open '/etc/shadow'"), undefined);
  t.is(dockerHint(g, 'EACCES', 'EACCES: permission denied'), undefined);
  t.is(dockerHint(g, 'EROFS', "EROFS: read-only file system, open '/outside/x'"), undefined);
});

test('a refused connection gets the loopback hint: through the proxy with a loopback grant, the grant to add without one', (t) => {
  const granted = makeGrants({ plugin: node.plugin, network: { allow: [{ host: '127.0.0.1', wildcard: false, port: 5432 }] } });
  t.regex(dockerHint(granted, 'ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432') ?? '', /127\.0\.0\.1:5432 means this machine's loopback.*HTTP_PROXY/);
  t.regex(dockerHint(granted, 'plugin-error', 'ConnectionRefusedError: [Errno 111] Connection refused') ?? '', /this machine's loopback/);
  t.regex(dockerHint(node, 'ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8080') ?? '', /the container itself.*127\.0\.0\.1:PORT/);
  const remote = makeGrants({ plugin: node.plugin, network: { allow: [{ host: 'db.example.com', wildcard: false, port: 5432 }] } });
  t.is(dockerHint(remote, 'ECONNREFUSED', 'connect ECONNREFUSED 10.1.2.3:5432'), undefined);
  t.is(dockerHint(granted, 'ETIMEDOUT', 'connect ETIMEDOUT 10.1.2.3:5432'), undefined);
});

t('a node plugin importing a package it does not list fails to load with the package.json hint, shown by the CLI', async (t) => {
  const plugin = writePlugin(
    manifestObject({ name: 'node-missing-dep', runtime: 'node', entry: 'main.mjs', tools: [{ name: 'pad', description: 'p', input: { type: 'object' } }] }),
    { 'main.mjs': "import leftPad from 'left-pad';\nexport function pad(input) { return leftPad(input.text, 5); }\n" },
  );
  const docker = engine();
  t.teardown(() => docker.close());
  const err = await t.throwsAsync(docker.load(grantsFor(plugin.dir)));
  t.true(isAirlockError(err, 'trap'), String(err));
  t.regex(isAirlockError(err) ? (err.hint ?? '') : '', /add "left-pad" to "dependencies" in package\.json/);
  const run = await cli(['call', plugin.dir, 'pad', '{"text":"x"}']);
  t.is(run.code, 1);
  t.regex(run.stderr, /\nhint: add "left-pad" to "dependencies" in package\.json/);
  const json = await cli(['call', plugin.dir, 'pad', '{"text":"x"}', '--json']);
  t.is(json.code, 1);
  t.regex((JSON.parse(json.stdout) as { error: { hint?: string } }).error.hint ?? '', /add "left-pad" to "dependencies"/);
});

t('a python plugin importing a module it does not list gets the requirements.txt hint, at load and inside a tool', async (t) => {
  const atLoad = writePlugin(manifestObject({ name: 'python-missing-dep', tools: [{ name: 'dump', description: 'd', input: { type: 'object' } }] }), {
    'main.py': 'import yaml\n\ndef dump(input):\n    return yaml.safe_dump(input)\n',
  });
  const inTool = writePlugin(manifestObject({ name: 'python-missing-lazy', tools: [{ name: 'dump', description: 'd', input: { type: 'object' } }] }), {
    'main.py': 'def dump(input):\n    import yaml\n    return yaml.safe_dump(input)\n',
  });
  const docker = engine();
  t.teardown(() => docker.close());
  const load = await t.throwsAsync(docker.load(grantsFor(atLoad.dir)));
  t.regex(isAirlockError(load) ? (load.hint ?? '') : '', /provides "yaml" to requirements\.txt/);
  const p = await docker.load(grantsFor(inTool.dir));
  const call = await t.throwsAsync(p.call('dump', '{}'));
  t.true(isAirlockError(call, 'plugin-error'));
  t.regex(isAirlockError(call) ? (call.hint ?? '') : '', /provides "yaml" to requirements\.txt/);
  await p.close();
});

t('a read-write grant uid 10001 may not write gets the chown hint', async (t) => {
  const data = tempDir();
  // The host user owns it, mode 0755: the container's uid 10001 cannot write (as on a real host).
  const locked = join(data, 'locked');
  mkdirSync(locked, { mode: 0o755 });
  chmodSync(locked, 0o755);
  const plugin = writePlugin(
    manifestObject({
      name: 'python-locked',
      tools: [{ name: 'write', description: 'w', input: { type: 'object' } }],
      permissions: { filesystem: [{ path: locked, mount: '/out', access: 'read-write' }] },
    }),
    { 'main.py': 'def write(input):\n    open("/out/result.txt", "w").write("x")\n    return "ok"\n' },
  );
  const docker = engine();
  t.teardown(() => docker.close());
  const p = await docker.load(grantsFor(plugin.dir, { filesystem: [{ path: locked, access: 'read-write' }], unboundedWrites: ['docker'] }));
  const err = await t.throwsAsync(p.call('write', '{}'));
  t.is(isAirlockError(err) ? err.details.pluginCode : undefined, 'EACCES');
  t.regex(isAirlockError(err) ? (err.hint ?? '') : '', new RegExp(`sudo chown -R 10001:10001 ${locked}`));
  await p.close();
});
