/**
 * `airlock call <node or python fixture> <tool> '<json>'` end to end through
 * the PluginHost and provider (src/provider/index.ts) to the Docker engine; a
 * second call on the unchanged plugin builds nothing.
 */
import test from 'ava';
import { join } from 'node:path';
import Docker from 'dockerode';
import { cli } from '../../helpers/cli.ts';
import { DOCKER, FIXTURES } from './helpers.ts';

const t = DOCKER ? test : test.skip;

async function pluginImages(name: string): Promise<string[]> {
  const images = await new Docker().listImages({ filters: JSON.stringify({ label: [`airlock.plugin=${name}`] }) });
  return images.map((i) => i.Id).sort();
}

t('airlock call runs a node fixture in Docker; the second call does not rebuild', async (t) => {
  const first = await cli(['call', join(FIXTURES, 'node-deps'), 'duration', '{"text":"1d"}', '--json']);
  t.is(first.code, 0, first.stderr);
  const out = JSON.parse(first.stdout) as { ok: boolean; value: unknown; logs: { stdout: string }; metrics: { engine: string } };
  t.deepEqual(out.value, { ms: 86_400_000 });
  t.is(out.metrics.engine, 'docker');
  t.is(out.logs.stdout, 'parsing 1d\n');
  const before = await pluginImages('node-deps');
  const second = await cli(['call', join(FIXTURES, 'node-deps'), 'duration', '{"text":"2s"}']);
  t.is(second.code, 0, second.stderr);
  t.deepEqual(JSON.parse(second.stdout), { ms: 2000 });
  t.is(second.stderr, 'parsing 2s\n');
  t.deepEqual(await pluginImages('node-deps'), before, 'no new image');
});

t('airlock call runs a python fixture in Docker and reports a plugin error with its code', async (t) => {
  const ok = await cli(['call', join(FIXTURES, 'python-deps'), 'size', '{"bytes":2048}']);
  t.is(ok.code, 0, ok.stderr);
  t.deepEqual(JSON.parse(ok.stdout), { text: '2.0 kB' });
  const bad = await cli(['call', join(FIXTURES, 'python-shadow'), 'shadow', '{}', '--json']);
  t.is(bad.code, 1);
  t.regex(bad.stdout + bad.stderr, /plugin-error/);
  t.regex(bad.stdout + bad.stderr, /Permission denied/);
});
