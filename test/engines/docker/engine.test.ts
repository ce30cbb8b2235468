/**
 * The Docker engine end to end against a real daemon: plugins with npm and
 * PyPI dependencies, a filesystem grant, cached builds, pooled and per-call
 * isolation, timeouts and aborts.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAirlockError } from '../../../src/errors.ts';

import type { BuildEvent } from '../../../src/engines/docker/index.ts';
import { OWNER } from '../../../src/engines/docker/container.ts';
import { manifestObject, tempDir, writePlugin } from '../../helpers/plugin.ts';
import { DOCKER, FIXTURES, engine, grantsFor } from './helpers.ts';

const t = DOCKER ? test : test.skip;
const docker = engine();
test.after.always(() => docker.close());

t('a node plugin with an npm dependency answers, with its prints in the call logs', async (t) => {
  const p = await docker.load(grantsFor('node-deps'));
  const r = await p.call('duration', JSON.stringify({ text: '2h' }));
  t.deepEqual(JSON.parse(r.output), { ms: 7_200_000 });
  t.is(r.logs.stdout, 'parsing 2h\n');
  t.is(r.logs.stderr, '');
  t.is(r.metrics.engine, 'docker');
  const echo = await p.call('echo', JSON.stringify({ nested: { list: [1, 'two', null] }, text: 'line\nbreak "quoted" ✓' }));
  t.deepEqual(JSON.parse(echo.output), { nested: { list: [1, 'two', null] }, text: 'line\nbreak "quoted" ✓' });
  const err = await t.throwsAsync(p.call('fail', '{}'));
  t.true(isAirlockError(err, 'plugin-error'));
  t.is(isAirlockError(err) ? err.details.pluginCode : undefined, 'E_ATLANTIS');
  t.regex(err!.message, /no forecast for Atlantis/);
  const missing = await t.throwsAsync(p.call('nope', '{}'));
  t.true(isAirlockError(missing, 'not-found'));
  await p.close();
});

t('a python plugin with a PyPI dependency answers (sync and async tools)', async (t) => {
  const p = await docker.load(grantsFor('python-deps'));
  const r = await p.call('size', JSON.stringify({ bytes: 1_000_000 }));
  t.deepEqual(JSON.parse(r.output), { text: '1.0 MB' });
  t.is(r.logs.stdout, 'sizing 1000000\n');
  const echo = await p.call('echo', JSON.stringify({ a: [1, 2, { b: 'ü' }] }));
  t.deepEqual(JSON.parse(echo.output), { a: [1, 2, { b: 'ü' }] });
  await p.close();
});

t('a python plugin reads its granted folder and cannot write to a read grant', async (t) => {
  const p = await docker.load(grantsFor('python-fs', { filesystem: [{ path: join(FIXTURES, 'python-fs/data'), access: 'read' }] }));
  t.deepEqual(JSON.parse((await p.call('read', JSON.stringify({ path: '/data/hello.txt' }))).output), { text: 'hello from the host\n' });
  t.deepEqual(JSON.parse((await p.call('list', JSON.stringify({ path: '/data' }))).output), { names: ['hello.txt'] });
  const err = await t.throwsAsync(p.call('write', JSON.stringify({ path: '/data/new.txt', text: 'x' })));
  t.true(isAirlockError(err, 'plugin-error'));
  t.is(isAirlockError(err) ? err.details.pluginCode : undefined, 'EROFS');
  await p.close();
});

t('a read-write grant is writable and the write lands on the host', async (t) => {
  const data = tempDir();
  // The container's user is 10001, not the host user that owns the folder.
  chmodSync(data, 0o777);
  const plugin = writePlugin(
    manifestObject({
      name: 'python-rw',
      tools: [{ name: 'write', description: 'w', input: { type: 'object' } }],
      permissions: { filesystem: [{ path: data, mount: '/out', access: 'read-write' }] },
    }),
    { 'main.py': 'def write(input):\n    open("/out/result.txt", "w").write(input["text"])\n    return "ok"\n' },
  );
  const p = await docker.load(grantsFor(plugin.dir, { filesystem: [{ path: data, access: 'read-write' }], unboundedWrites: ['docker'] }));
  t.is((await p.call('write', JSON.stringify({ text: 'from the container' }))).output, '"ok"');
  const { readFileSync } = await import('node:fs');
  t.is(readFileSync(join(data, 'result.txt'), 'utf8'), 'from the container');
  await p.close();
});

t('an unchanged plugin is not rebuilt; a changed file gives a new image', async (t) => {
  const dir = tempDir();
  writePlugin(
    manifestObject({ name: 'python-rebuild', tools: [{ name: 'v', description: 'v', input: { type: 'object' } }] }),
    { 'main.py': 'def v(input):\n    return 1\n' },
    dir,
  );
  const grants = grantsFor(dir);
  const first = await docker.build(grants);
  const events: BuildEvent[] = [];
  const second = await docker.build(grants, { onProgress: (e) => events.push(e) });
  t.is(second.tag, first.tag);
  t.false(second.built);
  t.deepEqual(events, [{ type: 'cached', tag: first.tag }]);
  // Limits and permissions live in plugin.yaml, which is not part of the image.
  writePlugin(
    manifestObject({ name: 'python-rebuild', resources: { timeout: '5s' }, tools: [{ name: 'v', description: 'v', input: { type: 'object' } }] }),
    {},
    dir,
  );
  t.false((await docker.build(grantsFor(dir))).built);
  // A nonce, so no earlier run has built this content already.
  writeFileSync(join(dir, 'main.py'), `# ${randomUUID()}\ndef v(input):\n    return 2\n`);
  const third = await docker.build(grants);
  // Images of one-off content would pile up run after run.
  const oneOff: string[] = [third.tag];
  t.teardown(() =>
    Promise.all(
      oneOff.map((tag) =>
        docker.docker
          .getImage(tag)
          .remove()
          .catch(() => undefined),
      ),
    ),
  );
  t.not(third.tag, first.tag);
  t.true(third.built);
  // Files an ignore file leaves out do not count.
  writeFileSync(join(dir, '.airlockignore'), 'notes.txt\n');
  const withIgnore = await docker.build(grants);
  oneOff.push(withIgnore.tag);
  writeFileSync(join(dir, 'notes.txt'), 'scratch');
  const after = await docker.build(grants);
  t.is(after.tag, withIgnore.tag);
  t.false(after.built);
});

t('a failed build names the failing step and shows its output', async (t) => {
  const plugin = writePlugin(manifestObject({ name: 'python-badreq' }), { 'main.py': '', 'requirements.txt': 'this-is-not a valid requirement ===\n' });
  const err = await t.throwsAsync(docker.build(grantsFor(plugin.dir)));
  t.true(isAirlockError(err, 'build-failed'));
  t.regex(err!.message, /failed at step `RUN .*pip install/);
  t.regex(err!.message, /output of that step/);
  t.regex(err!.message, /(Invalid requirement|ERROR)/i);
});

function counterPlugin(isolation: 'pooled' | 'per-call'): string {
  return writePlugin(
    manifestObject({ name: `python-counter-${isolation}`, isolation, tools: [{ name: 'count', description: 'c', input: { type: 'object' } }] }),
    { 'main.py': 'n = 0\n\ndef count(input):\n    global n\n    n += 1\n    return n\n' },
  ).dir;
}

t('pooled containers keep state between calls; per-call isolation gives a fresh container per call', async (t) => {
  const pooled = await docker.load(grantsFor(counterPlugin('pooled')));
  t.is((await pooled.call('count', '{}')).output, '1');
  t.is((await pooled.call('count', '{}')).output, '2');
  await pooled.close();
  const fresh = await docker.load(grantsFor(counterPlugin('per-call')));
  t.is((await fresh.call('count', '{}')).output, '1');
  t.is((await fresh.call('count', '{}')).output, '1');
  await fresh.close();
});

t("a parked plugin's containers are gone; the next call starts one, whose in-memory state is fresh", async (t) => {
  const dir = writePlugin(manifestObject({ name: 'python-counter-parked', tools: [{ name: 'count', description: 'c', input: { type: 'object' } }] }), {
    'main.py': 'n = 0\n\ndef count(input):\n    global n\n    n += 1\n    return n\n',
  }).dir;
  // A long idle period from the policy: the test parks explicitly rather than waiting for it.
  const grants = grantsFor(dir, { idle: '10m' });
  t.is(grants.idleMs, 600_000);
  const p = await docker.load(grants);
  t.teardown(() => p.close());
  const running = async () =>
    (await docker.docker.listContainers({ filters: JSON.stringify({ label: ['airlock.plugin=python-counter-parked', `airlock.owner=${OWNER}`] }) })).length;
  t.is((await p.call('count', '{}')).output, '1');
  t.is((await p.call('count', '{}')).output, '2');
  t.is(await p.park!(), 1);
  t.is(await running(), 0);
  t.is((await p.call('count', '{}')).output, '1');
  t.is(await running(), 1);
});

function sleeper(): string {
  return writePlugin(
    manifestObject({
      name: 'node-sleeper',
      runtime: 'node',
      entry: 'index.mjs',
      resources: { timeout: '60s' },
      tools: [
        { name: 'hang', description: 'h', input: { type: 'object' } },
        { name: 'ping', description: 'p', input: { type: 'object' } },
      ],
    }),
    { 'index.mjs': 'export function hang() { return new Promise(() => setInterval(() => {}, 1000)); }\nexport const ping = () => "pong";\n' },
  ).dir;
}

t('a timeout stops the call, and a fresh container serves the next one', async (t) => {
  const p = await docker.load(grantsFor(sleeper()));
  const err = await t.throwsAsync(p.call('hang', '{}', { timeoutMs: 300 }));
  t.true(isAirlockError(err, 'timeout'));
  t.is((await p.call('ping', '{}')).output, '"pong"');
  await p.close();
});

t('an abort dequeues a waiting call and stops a running one', async (t) => {
  const p = await docker.load(grantsFor(sleeper()));
  const running = new AbortController();
  const queued = new AbortController();
  const first = p.call('hang', '{}', { signal: running.signal });
  const second = p.call('ping', '{}', { signal: queued.signal });
  queued.abort();
  const e2 = await t.throwsAsync(second);
  t.true(isAirlockError(e2, 'aborted'));
  running.abort();
  const e1 = await t.throwsAsync(first);
  t.true(isAirlockError(e1, 'aborted'));
  t.is((await p.call('ping', '{}')).output, '"pong"');
  await p.close();
});

t('a full queue answers overloaded', async (t) => {
  const p = await docker.load({ ...grantsFor(sleeper()), resources: { ...grantsFor(sleeper()).resources, queue: 1 } });
  const stop = new AbortController();
  const busy = p.call('hang', '{}', { signal: stop.signal });
  const waiting = p.call('ping', '{}');
  const err = await t.throwsAsync(p.call('ping', '{}'));
  t.true(isAirlockError(err, 'overloaded'));
  stop.abort();
  await t.throwsAsync(busy);
  t.is((await waiting).output, '"pong"');
  await p.close();
});

t('concurrency 2: two warm containers serve two calls at once', async (t) => {
  const shared = tempDir();
  chmodSync(shared, 0o777);
  // Each call announces itself in the shared folder and waits for the other: they finish only if both run at once.
  const plugin = writePlugin(
    manifestObject({
      name: 'python-rendezvous',
      resources: { concurrency: 2, timeout: '30s' },
      permissions: { filesystem: [{ path: shared, mount: '/shared', access: 'read-write' }] },
      tools: [{ name: 'meet', description: 'm', input: { type: 'object' } }],
    }),
    {
      'main.py':
        'import os, time\n\ndef meet(input):\n    open(f"/shared/{input[\'me\']}", "w").close()\n    while not os.path.exists(f"/shared/{input[\'other\']}"):\n        time.sleep(0.01)\n    return input["me"]\n',
    },
  );
  const p = await docker.load(grantsFor(plugin.dir, { filesystem: [{ path: shared, access: 'read-write' }], unboundedWrites: ['docker'] }));
  const [a, b] = await Promise.all([p.call('meet', JSON.stringify({ me: 'a', other: 'b' })), p.call('meet', JSON.stringify({ me: 'b', other: 'a' }))]);
  t.is(a.output, '"a"');
  t.is(b.output, '"b"');
  await p.close();
});

t('a python plugin declaring its dependencies in pyproject.toml gets them installed', async (t) => {
  const plugin = writePlugin(manifestObject({ name: 'python-pyproject', tools: [{ name: 'v', description: 'v', input: { type: 'object' } }] }), {
    'main.py': 'import humanize\n\ndef v(input):\n    return humanize.naturalsize(42)\n',
    'pyproject.toml':
      '[project]\nname = "python-pyproject"\nversion = "0.1.0"\ndependencies = ["humanize==4.9.0"]\n\n[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[tool.setuptools]\npy-modules = []\n',
  });
  const p = await docker.load(grantsFor(plugin.dir));
  t.is((await p.call('v', '{}')).output, '"42 Bytes"');
  await p.close();
});

t('loading takes an AbortSignal', async (t) => {
  const before = new AbortController();
  before.abort();
  t.true(isAirlockError(await t.throwsAsync(docker.load(grantsFor('python-deps'), { kind: 'source' }, { signal: before.signal })), 'aborted'));
  // Aborted while the container starts: no container is left behind.
  const during = new AbortController();
  const dir = writePlugin(manifestObject({ name: 'python-abort', tools: [{ name: 'v', description: 'v', input: { type: 'object' } }] }), {
    'main.py': 'def v(input):\n    return 1\n',
  }).dir;
  await docker.build(grantsFor(dir));
  const loading = docker.load(
    grantsFor(dir),
    { kind: 'source' },
    { signal: during.signal, onEvent: (e) => e.type === 'build' && /is up to date/.test(e.message) && during.abort() },
  );
  t.true(isAirlockError(await t.throwsAsync(loading), 'aborted'));
  const left = await docker.docker.listContainers({ all: true, filters: JSON.stringify({ label: ['airlock.plugin=python-abort', `airlock.owner=${OWNER}`] }) });
  t.deepEqual(left, []);
});

t('an entry that throws while loading fails the load with trap, naming the error', async (t) => {
  const py = writePlugin(manifestObject({ name: 'python-badimport' }), { 'main.py': 'print("loading")\nimport nonexistent_module\n' });
  const e1 = await t.throwsAsync(docker.load(grantsFor(py.dir)));
  t.true(isAirlockError(e1, 'trap'), String(e1));
  t.regex(e1!.message, /No module named 'nonexistent_module'/);
  t.regex(e1!.message, /loading/);
  const js = writePlugin(manifestObject({ name: 'node-badimport', runtime: 'node', entry: 'index.mjs' }), {
    'index.mjs': 'throw new Error("broken at load");\n',
  });
  const e2 = await t.throwsAsync(docker.load(grantsFor(js.dir)));
  t.true(isAirlockError(e2, 'trap'), String(e2));
  t.regex(e2!.message, /broken at load/);
});

t('an error thrown outside the tool (a timer) crashes the container with that error; a fresh one follows', async (t) => {
  const plugin = writePlugin(
    manifestObject({
      name: 'node-async-boom',
      runtime: 'node',
      entry: 'index.mjs',
      tools: [
        { name: 'boom', description: 'b', input: { type: 'object' } },
        { name: 'ping', description: 'p', input: { type: 'object' } },
      ],
    }),
    {
      'index.mjs':
        'export function boom() {\n  console.log("arming");\n  setTimeout(() => { throw new Error("async boom"); }, 1);\n  return new Promise(() => {});\n}\nexport const ping = () => "pong";\n',
    },
  );
  const p = await docker.load(grantsFor(plugin.dir));
  const err = await t.throwsAsync(p.call('boom', '{}'));
  t.true(isAirlockError(err, 'crash'), String(err));
  t.regex(err!.message, /uncaught exception during the call: Error: async boom/);
  t.is(isAirlockError(err) ? (err.details.logs as { stdout: string }).stdout : undefined, 'arming\n');
  t.is((await p.call('ping', '{}')).output, '"pong"');
  await p.close();
});
