/**
 * A worker costs what the plugin uses (issue 21): a wasm worker loads only
 * the capabilities' parts and preview2-shim families its component imports,
 * never the host-side capability entry, another engine's code or the egress
 * proxy, and network code only for a component that imports a network
 * interface. Checked on a module-load trace of a real `engine.load()` in a
 * child process (test/helpers/module-trace.ts), not on time.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixtureComponent } from './helpers.ts';

const ROOT = new URL('../../../', import.meta.url);
const TRACE = new URL('test/helpers/module-trace.ts', ROOT).href;

/** What the worker threads loaded while `name` was loaded on the worker engine and called once (grants: `grants` JSON overrides). */
async function workerModules(name: string, tool: string, input: string, overrides = '{}'): Promise<string[]> {
  const component = await fixtureComponent(name);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-trace-'));
  const out = join(dir, 'trace.txt');
  const script = `
    import { WasmEngine } from ${JSON.stringify(new URL('src/engines/wasm/index.ts', ROOT).href)};
    import { fixtureGrants } from ${JSON.stringify(new URL('test/engines/wasm/helpers.ts', ROOT).href)};
    const engine = new WasmEngine({ standby: 0 });
    const p = await engine.load(fixtureGrants(${JSON.stringify(name)}, ${overrides}), { kind: 'component', path: ${JSON.stringify(component)} });
    await p.call(${JSON.stringify(tool)}, ${JSON.stringify(input)}).catch(() => {});
    await engine.close();
  `;
  writeFileSync(join(dir, 'load.mjs'), script);
  await promisify(execFile)(process.execPath, [`--import=${TRACE}?out=${out}`, join(dir, 'load.mjs')], { timeout: 90_000 });
  const root = ROOT.href;
  return readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('0 '))
    .map((l) => l.slice(l.indexOf(' ') + 1).replace(root, ''));
}

const NETWORK_BUILTINS = ['node:http', 'node:https', 'node:net', 'node:tls', 'node:dns'];
const hostSide = (m: string): boolean =>
  m === 'src/capabilities/index.ts' ||
  /^src\/capabilities\/[^/]+\/(index|docker|wasmtime|route)\.ts$/.test(m) ||
  m.startsWith('src/egress/') ||
  // plugin-error.ts is no engine: the one decoder of a tool's own error, shared by every engine.
  /^src\/engines\/(?!wasm\/|plugin-error\.ts$)/.test(m);

test('a worker for a C plugin without network grants loads no network code, no egress module and nothing host-side', async (t) => {
  const mods = await workerModules('echo-c', 'echo', '{"message":"hi"}');
  t.true(mods.includes('src/capabilities/worker.ts'), 'the trace sees the worker');
  t.true(mods.includes('src/capabilities/stdio/wasi.ts'), 'the parts the component imports are loaded');
  t.deepEqual(mods.filter(hostSide), []);
  t.deepEqual(
    mods.filter(
      (m) => NETWORK_BUILTINS.includes(m) || /preview2-shim\/dist\/nodejs\/(http|sockets|random|filesystem)\.js$/.test(m) || m.endsWith('/network/wasi.ts'),
    ),
    [],
  );
  // Nor any of preview2-shim: its wasi:io starts an IO thread on import, which such a component leaves idle.
  t.true(mods.includes('src/capabilities/own-io.ts'));
  t.deepEqual(
    mods.filter((m) => m.includes('preview2-shim')),
    [],
  );
});

test('a worker for a component importing wasi:http loads the network part (and the shim HTTP types) but never the egress proxy', async (t) => {
  const grant = JSON.stringify({ network: { allow: [{ host: 'example.invalid', wildcard: false }] } });
  const mods = await workerModules('net', 'tcp', '{"ip":"127.0.0.1","port":9}', grant);
  t.true(mods.includes('src/capabilities/network/wasi.ts'));
  // Its streams and pollables are the shim's (their IO runs on the shim's thread): the shim's wasi:io, not Airlock's own.
  t.true(mods.some((m) => m.endsWith('preview2-shim/dist/io/worker-io.js')));
  // The allowlist's rules (pure matching, shared with the proxy) are the only egress module a worker needs.
  t.deepEqual(
    mods.filter((m) => hostSide(m) && m !== 'src/egress/policy.ts'),
    [],
  );
  t.false(mods.some((m) => m === 'node:tls' || m === 'node:net' || m === 'node:dns'));
});

const FILESYSTEM_LAYER = 'src/capabilities/filesystem/preopens.ts';

test('a worker for a plugin without a filesystem grant never loads the filesystem layer (its preopens are empty)', async (t) => {
  const mods = await workerModules('fs-escape', 'read', '{"path":"/data/f"}');
  t.true(mods.includes('src/capabilities/filesystem/wasi.ts'), 'the component imports wasi:filesystem');
  t.false(mods.includes(FILESYSTEM_LAYER));
  t.false(mods.includes('src/capabilities/filesystem/walk.ts'));
});

test('a worker for a plugin with a filesystem grant loads the filesystem layer', async (t) => {
  const data = realpathSync(mkdtempSync(join(tmpdir(), 'airlock-trace-data-')));
  const grant = JSON.stringify({ filesystem: [{ hostPath: data, mount: '/data', access: 'read' }] });
  const mods = await workerModules('fs-escape', 'read', '{"path":"/data/f"}', grant);
  t.true(mods.includes(FILESYSTEM_LAYER));
});

test('a standby worker has loaded what a C component needs: its adoption loads no module (the glue is a script, the WASI parts are warm)', async (t) => {
  const component = await fixtureComponent('echo-c');
  const dir = mkdtempSync(join(tmpdir(), 'airlock-trace-'));
  const out = join(dir, 'trace.txt');
  const script = `
    import { appendFileSync } from 'node:fs';
    import { WasmEngine } from ${JSON.stringify(new URL('src/engines/wasm/index.ts', ROOT).href)};
    import { standby } from ${JSON.stringify(new URL('src/engines/wasm/standby.ts', ROOT).href)};
    import { fixtureGrants } from ${JSON.stringify(new URL('test/engines/wasm/helpers.ts', ROOT).href)};
    const engine = new WasmEngine({ standby: 1 });
    standby.resize(1);
    const [adopted] = await standby.threads();
    appendFileSync(${JSON.stringify(out)}, 'adopting ' + adopted + '\\n');
    const p = await engine.load(fixtureGrants('echo-c'), { kind: 'component', path: ${JSON.stringify(component)} });
    await p.call('echo', '{"message":"hi"}');
    await engine.close();
  `;
  writeFileSync(join(dir, 'load.mjs'), script);
  await promisify(execFile)(process.execPath, [`--import=${TRACE}?out=${out}`, join(dir, 'load.mjs')], { timeout: 90_000 });
  const lines = readFileSync(out, 'utf8').split('\n');
  const mark = lines.findIndex((l) => l.startsWith('adopting '));
  t.true(mark > 0, 'the standby worker started before the load');
  const thread = (lines[mark] as string).slice('adopting '.length);
  t.true(
    lines.slice(0, mark).some((l) => l.startsWith(`${thread} `) && l.endsWith('/src/capabilities/stdio/wasi.ts')),
    'the standby loaded the stdio part',
  );
  t.deepEqual(
    lines.slice(mark + 1).filter((l) => l.startsWith(`${thread} `)),
    [],
  );
});
