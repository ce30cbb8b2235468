/**
 * Which component file the engines get (src/provider/index.ts planSelection), and what the provider passes on.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { appendFileSync, cpSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import type { EngineProbe } from '../../src/engines/probe.ts';
import type { EngineName } from '../../src/engines/types.ts';
import { computeGrants, defaultPolicy } from '../../src/grants/index.ts';
import { loadPlugin } from '../../src/manifest/index.ts';
import { defaultEngineProvider, planSelection, type ProviderEvent } from '../../src/provider/index.ts';
import { cacheRoot } from '../../src/paths.ts';
import { isInside } from '../../src/plugin-files/inside.ts';
import { grantsForManifest } from '../helpers/grants.ts';
import { tempDir } from '../helpers/plugin.ts';

const probes: Record<EngineName, EngineProbe> = {
  wasm: { engine: 'wasm', available: true, version: 'test' },
  wasmtime: { engine: 'wasmtime', available: false, reason: 'not needed here' },
  docker: { engine: 'docker', available: false, reason: 'not needed here' },
  kubernetes: { engine: 'kubernetes', available: false, reason: 'not needed here' },
};

test("a prebuilt component runs from a verified copy in the cache, never from the plugin's own file", async (t) => {
  const dir = tempDir();
  cpSync(join(FIXTURES_DIR, 'third-party'), dir, { recursive: true });
  const grants = computeGrants(loadPlugin(dir), defaultPolicy());
  const { selection, component } = await planSelection(grants, 'auto', probes);
  t.is(selection.engine, 'wasm');
  t.true(component !== undefined && isInside(cacheRoot(), component), `${component} is in the cache`);
});

test("the provider passes on each engine's events: a worker-engine plugin's egress decision arrives as a provider event", async (t) => {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const events: ProviderEvent[] = [];
  const provider = defaultEngineProvider({ probes, onEvent: (e) => events.push(e) });
  t.teardown(() => provider.close());
  const plugin = loadPlugin(join(FIXTURES_DIR, 'net'));
  // An IP literal is named in the grant, so the route's proxy admits this loopback address.
  const grants = grantsForManifest(plugin, { network: { allow: [{ host: '127.0.0.1', wildcard: false, port }] } });
  const opened = await provider.open(plugin, grants, 'wasm');
  t.is((await opened.instance.call('http', JSON.stringify({ url: `http://127.0.0.1:${port}/x` }))).output, '"ok:200"');
  t.like(
    events.find((e) => e.type === 'egress'),
    { type: 'egress', plugin: 'net', decision: { decision: 'allowed', host: '127.0.0.1', port } },
  );
  t.like(
    events.find((e) => e.type === 'selected'),
    { type: 'selected', plugin: 'net', engine: 'wasm' },
  );
});

test("an open's own onEvent hears its component build start (no engine yet) and the engine chosen; a cached one hears no build", async (t) => {
  const dir = tempDir();
  cpSync(join(FIXTURES_DIR, 'echo-c'), dir, { recursive: true });
  // Sources no cache has seen: this open builds.
  appendFileSync(join(dir, 'echo.c'), `\n/* ${randomUUID()} */\n`);
  const plugin = loadPlugin(dir);
  const grants = computeGrants(plugin, defaultPolicy());
  const provider = defaultEngineProvider({ probes });
  t.teardown(() => provider.close());
  const heard: ProviderEvent[] = [];
  const first = await provider.open(plugin, grants, 'auto', { onEvent: (e) => heard.push(e) });
  await first.instance.close();
  t.deepEqual(
    heard.map((e) => (e.type === 'build' ? { type: e.type, engine: e.engine, message: e.message.replace(/ with clang .*/, ' with clang') } : { type: e.type })),
    [{ type: 'build', engine: undefined, message: 'building a component from echo.c with clang' }, { type: 'selected' }],
  );
  const again: ProviderEvent[] = [];
  const second = await provider.open(plugin, grants, 'auto', { onEvent: (e) => again.push(e) });
  await second.instance.close();
  t.deepEqual(
    again.map((e) => e.type),
    ['selected'],
  );
});
