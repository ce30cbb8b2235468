/**
 * Image builds run no plugin code: npm scripts are ignored, pip installs
 * wheels only and never builds the plugin's own project, dependency files
 * are reduced to plain requirements, the build is bounded in time and
 * reaches only the registries, and concurrent builds are shared by content.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Docker from 'dockerode';
import { imageExists } from '../../../src/engines/docker/build.ts';
import { prepareBuild, type BuildEvent } from '../../../src/engines/docker/index.ts';
import { isAirlockError } from '../../../src/errors.ts';
import { manifestObject, writePlugin } from '../../helpers/plugin.ts';
import { DOCKER, engine, grantsFor } from './helpers.ts';

const t = DOCKER ? test : test.skip;
const docker = engine();
test.after.always(() => docker.close());

t('package.json scripts (preinstall, install, postinstall, prepare) do not run during the build', async (t) => {
  const p = await docker.load(grantsFor('node-postinstall'));
  t.deepEqual(JSON.parse((await p.call('markers', '{}')).output), []);
  await p.close();
});

t("a pyproject.toml contributes its dependencies; the project's setup.py never runs", async (t) => {
  const p = await docker.load(grantsFor('python-setup'));
  t.deepEqual(JSON.parse((await p.call('markers', '{}')).output), { markers: [], humanize: true });
  await p.close();
});

for (const [what, line, message] of [
  ['an editable install of the plugin itself', '-e .', /pip options are not accepted.*'-e'/],
  ['a direct reference', 'evil @ https://example.invalid/evil-1.0.tar.gz', /direct reference/],
  ['an option that undoes --only-binary', '--no-binary :all:', /pip options are not accepted/],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: pip's own ${NAME} syntax, meant literally.
  ['an environment variable reference', 'humanize===${HTTPS_PROXY}', /refers to an environment variable/],
] as const) {
  t(`a requirements file with ${what} fails the build, naming the line`, async (t) => {
    const plugin = writePlugin(manifestObject({ name: 'python-badreq2' }), {
      'main.py': '',
      'requirements.txt': `# ${randomUUID()}\nhumanize==4.9.0\n${line}\n`,
    });
    const err = await t.throwsAsync(docker.build(grantsFor(plugin.dir)));
    t.true(isAirlockError(err, 'build-failed'), String(err));
    t.regex(err!.message, /requirements\.txt line 3/);
    t.regex(err!.message, message);
  });
}

t('build args that change what the install runs are refused', async (t) => {
  const plugin = writePlugin(manifestObject({ name: 'node-badarg', runtime: 'node', entry: 'index.mjs' }), { 'index.mjs': '', 'package.json': '{}' });
  for (const name of ['NODE_OPTIONS', 'PATH', 'npm_config_ignore_scripts', 'PIP_NO_BINARY', 'LD_PRELOAD']) {
    const err = await t.throwsAsync(docker.build(grantsFor(plugin.dir), { build: { args: { [name]: 'x' } } }));
    t.true(isAirlockError(err, 'invalid-manifest'), `${name}: ${String(err)}`);
    t.regex(err!.message, new RegExp(`build\\.args\\.${name}`));
  }
  const deps = await t.throwsAsync(docker.build(grantsFor(plugin.dir), { build: { dependencies: 'x\nVOLUME /v\n#/package.json' } }));
  t.true(isAirlockError(deps, 'invalid-manifest'), String(deps));
});

t('a build past its timeout is cancelled and fails with build-failed', async (t) => {
  const short = engine({ buildLimits: { timeoutMs: 1 } });
  // A nonce, so no earlier run has built (and cached) this content.
  const plugin = writePlugin(manifestObject({ name: 'python-slowbuild' }), { 'main.py': `# ${randomUUID()}\n` });
  const err = await t.throwsAsync(short.build(grantsFor(plugin.dir)));
  t.true(isAirlockError(err, 'build-failed'), String(err));
  t.regex(err!.message, /past its timeout of 1 ms/);
});

t('the build reaches the registries through its egress proxy, and nothing else', async (t) => {
  // The host's address on the default bridge: what a build step on that bridge could reach.
  const bridge = (await new Docker().getNetwork('bridge').inspect()) as { IPAM: { Config: { Gateway?: string; Subnet?: string }[] } };
  const config = bridge.IPAM.Config.find((c) => c.Gateway !== undefined || c.Subnet?.includes('.') === true);
  const gateway = config?.Gateway ?? config?.Subnet?.replace(/\.0\/\d+$/, '.1');
  if (gateway === undefined) return t.fail('the default bridge has no IPv4 address');
  let connections = 0;
  const server = createServer((_req, res) => res.end('not a tarball'));
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, gateway, resolve));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;

  // npm fetches a tarball URL named in package.json: on the host's bridge address, refused.
  const leak = writePlugin(manifestObject({ name: 'node-tarball-url', runtime: 'node', entry: 'index.mjs' }), {
    'index.mjs': '',
    'package.json': JSON.stringify({
      name: 'x',
      version: '1.0.0',
      description: randomUUID(),
      dependencies: { secret: `http://${gateway}:${port}/secret.tgz` },
    }),
  });
  const events: BuildEvent[] = [];
  const err = await t.throwsAsync(docker.build(grantsFor(leak.dir), { onProgress: (e) => events.push(e) }));
  t.true(isAirlockError(err, 'build-failed'), String(err));
  t.is(connections, 0, 'the host service never saw a connection');
  t.true(
    events.some((e) => e.type === 'output' && e.text.includes(`build network refused ${gateway}:${port}`)),
    'the refusal is in the build output',
  );
  // An index the plugin names itself is reached only at a public address: not the host's.
  const index = writePlugin(manifestObject({ name: 'python-own-index', build: { args: { PIP_INDEX_URL: `http://${gateway}:${port}/simple` } } }), {
    'main.py': '',
    'requirements.txt': `# ${randomUUID()}\nhumanize==4.9.0\n`,
  });
  t.true(isAirlockError(await t.throwsAsync(docker.build(grantsFor(index.dir))), 'build-failed'));
  t.is(connections, 0, 'the host service never saw a connection from pip either');

  // A real dependency from the registry still installs (fresh content, so it is really built).
  const ok = writePlugin(
    manifestObject({ name: 'node-registry-dep', runtime: 'node', entry: 'index.mjs', tools: [{ name: 'd', description: 'd', input: { type: 'object' } }] }),
    {
      'index.mjs': "import ms from 'ms';\nexport function d() {\n  return ms('2h');\n}\n",
      'package.json': JSON.stringify({ name: 'y', version: '1.0.0', description: randomUUID(), type: 'module', dependencies: { ms: '2.1.3' } }),
    },
  );
  const built = await docker.build(grantsFor(ok.dir));
  t.teardown(() =>
    docker.docker
      .getImage(built.tag)
      .remove()
      .catch(() => undefined),
  );
  t.true(built.built);
  const p = await docker.load(grantsFor(ok.dir));
  t.is((await p.call('d', '{}')).output, '7200000');
  await p.close();
  // And a PyPI wheel (PyPI serves files from a second host).
  const py = writePlugin(manifestObject({ name: 'python-registry-dep', tools: [{ name: 'd', description: 'd', input: { type: 'object' } }] }), {
    'main.py': 'import humanize\n\ndef d(input):\n    return humanize.naturalsize(42)\n',
    'requirements.txt': `# ${randomUUID()}\nhumanize==4.9.0\n`,
  });
  const pyBuilt = await docker.build(grantsFor(py.dir));
  t.teardown(() =>
    docker.docker
      .getImage(pyBuilt.tag)
      .remove()
      .catch(() => undefined),
  );
  t.true(pyBuilt.built);
  const q = await docker.load(grantsFor(py.dir));
  t.is((await q.call('d', '{}')).output, '"42 Bytes"');
  await q.close();
});

/** Resolves at the first build step a listener sees: the caller has joined a build that is really running. */
function firstStep(): { onProgress: (e: BuildEvent) => void; seen: Promise<void> } {
  let seen!: () => void;
  const p = new Promise<void>((r) => (seen = r));
  return { onProgress: (e) => e.type === 'step' && seen(), seen: p };
}

t('a build shared by two callers goes on when one of them aborts; it is cancelled only when all have', async (t) => {
  const plugin = writePlugin(manifestObject({ name: 'python-sharedbuild' }), { 'main.py': `# ${randomUUID()}\n` });
  const grants = grantsFor(plugin.dir);
  const gaveUp = new AbortController();
  const a = docker.build(grants, { signal: gaveUp.signal });
  const bSteps = firstStep();
  const b = docker.build(grants, { onProgress: bSteps.onProgress });
  await bSteps.seen;
  gaveUp.abort();
  t.true(isAirlockError(await t.throwsAsync(a), 'aborted'));
  const built = await b;
  t.teardown(() =>
    docker.docker
      .getImage(built.tag)
      .remove()
      .catch(() => undefined),
  );
  t.true(built.built);

  // Alone, the caller's abort cancels the build: no image appears under the tag.
  writeFileSync(join(plugin.dir, 'main.py'), `# ${randomUUID()}\n`);
  const { tag } = await prepareBuild(docker.docker, grants, docker.config);
  const alone = new AbortController();
  const steps = firstStep();
  const c = docker.build(grants, { signal: alone.signal, onProgress: steps.onProgress });
  await steps.seen;
  alone.abort();
  t.true(isAirlockError(await t.throwsAsync(c), 'aborted'));
  t.false(await imageExists(docker.docker, tag));
});

t('a folder changed while its build runs gets its own build, not the older content’s image', async (t) => {
  const plugin = writePlugin(manifestObject({ name: 'python-changedbuild' }), { 'main.py': `# ${randomUUID()}\n` });
  const grants = grantsFor(plugin.dir);
  const steps = firstStep();
  const first = docker.build(grants, { onProgress: steps.onProgress });
  await steps.seen;
  writeFileSync(join(plugin.dir, 'main.py'), `# ${randomUUID()}\n`);
  const [one, two] = await Promise.all([first, docker.build(grants)]);
  t.teardown(() =>
    Promise.all(
      [one.tag, two.tag].map((tag) =>
        docker.docker
          .getImage(tag)
          .remove()
          .catch(() => undefined),
      ),
    ),
  );
  t.not(one.tag, two.tag);
  t.true(two.built);
});

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
/** External memory (Buffers) still reachable after a full collection. */
function buffersHeld(): number {
  collect();
  collect();
  return process.memoryUsage().arrayBuffers;
}

t('a prepared build holds no plugin file in memory: the context is read again one file at a time, and a file changed since the tag fails it', async (t) => {
  // 96 MiB of plugin files: the context used to be one tar of all of them (and the files besides) until the build ended.
  const files: Record<string, string> = { 'main.py': `# ${randomUUID()}\n` };
  for (let i = 0; i < 6; i++) files[`data/blob${i}.txt`] = `${randomUUID()}${'x'.repeat(16 * 1024 * 1024)}`;
  const plugin = writePlugin(manifestObject({ name: 'python-bigcontext' }), files);
  const grants = grantsFor(plugin.dir);
  const before = buffersHeld();
  const prep = await prepareBuild(docker.docker, grants, docker.config);
  const held = buffersHeld() - before;
  t.true(held < 32 * 1024 * 1024, `${held} bytes of buffers held by the prepared build`);
  // Streamed: the whole archive, with each file's bytes as they were when the tag was computed.
  let bytes = 0;
  for await (const chunk of prep.context()) bytes += chunk.length;
  t.true(bytes > 96 * 1024 * 1024);
  writeFileSync(join(plugin.dir, 'data/blob3.txt'), `${randomUUID()}${'y'.repeat(16 * 1024 * 1024)}`);
  const err = await t.throwsAsync(async () => {
    for await (const _ of prep.context());
  });
  t.true(isAirlockError(err, 'build-failed'), String(err));
  t.regex(err?.message ?? '', /data\/blob3\.txt changed while the image was being built/);
});
