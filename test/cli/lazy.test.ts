/**
 * The CLI loads a command's module only when that command runs (issue 21):
 * `airlock call` on a component pays for no Docker, MCP, build or bench
 * code. Checked on a module-load trace (test/helpers/module-trace.ts), not
 * on time; and the command table's summaries are the modules' own.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { COMMANDS } from '../../src/cli/main.ts';
import { fixtureComponent } from '../engines/wasm/helpers.ts';

const ROOT = new URL('../../', import.meta.url);

test('every command in the table is its module: same name and summary', async (t) => {
  for (const entry of COMMANDS) {
    const command = await entry.load();
    t.is(command.name, entry.name);
    t.is(command.summary, entry.summary, entry.name);
  }
});

/** Every module `airlock <args>` loaded, in order, as [thread id, path] (file paths relative to the repository, and node: builtins). */
async function traceModules(args: string[]): Promise<[number, string][]> {
  const out = join(mkdtempSync(join(tmpdir(), 'airlock-trace-')), 'trace.txt');
  const trace = new URL('test/helpers/module-trace.ts', ROOT).href;
  await promisify(execFile)(process.execPath, [`--import=${trace}?out=${out}`, new URL('src/cli/main.ts', ROOT).pathname, ...args], {
    timeout: 90_000,
    env: { ...process.env, AIRLOCK_WASM_STANDBY: '0' },
  });
  return readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => [
      Number(l.slice(0, l.indexOf(' '))),
      l
        .slice(l.indexOf(' ') + 1)
        .replace(ROOT.href, '')
        .replace(/^file:\/\/.*\/node_modules\//, 'node_modules/'),
    ]);
}

/** The modules the main thread of `airlock <args>` loaded. */
async function mainThreadModules(args: string[]): Promise<string[]> {
  return (await traceModules(args)).filter(([thread]) => thread === 0).map(([, m]) => m);
}

test('`airlock call` of a cached component loads no other command, no Docker client (it probes no engine it does not use), MCP, bench, build tool, Rust or pip build code or trust check (none configured), and, called before, no zod, yaml or Ajv (its validator is kept)', async (t) => {
  await fixtureComponent('echo-c');
  const args = ['call', new URL('fixtures/plugins/echo-c', ROOT).pathname, 'echo', '{"message":"hi"}'];
  // Called once before: its manifest check and the default policy are remembered (src/manifest/check-cache.ts).
  await mainThreadModules(args);
  const mods = await mainThreadModules(args);
  t.true(mods.includes('src/cli/commands/call.ts'), 'the trace sees the command');
  const unwanted = mods.filter(
    (m) =>
      (m.startsWith('src/cli/commands/') && m !== 'src/cli/commands/call.ts') ||
      // The registry names Docker (its definition: pure refusals on daemon.ts's decision); its probe (the client, dockerode) runs only for a plugin the selector may give Docker.
      /^src\/(engines\/docker\/(?!definition|options|daemon)|mcp\/|bench\/)/.test(m) ||
      // No lock and no signers: no trust check to run, and none of its code (minisign, digests).
      /^src\/trust\/(?!configured)/.test(m) ||
      // Serving a cached C component: no Rust, TOML, pip or build-error code (src/build/wasm.ts loads them on use).
      /^src\/build\/(rust|python-deps|build-output)\.ts$/.test(m) ||
      // Ajv's runtime helpers are what a kept validator may use; Ajv itself is not loaded.
      (/^node_modules\/(@modelcontextprotocol|@bytecodealliance\/(jco|componentize)|dockerode|docker-modem|ssh2|zod|yaml|smol-toml|ajv)\//.test(m) &&
        !m.endsWith('/package.json') &&
        !m.startsWith('node_modules/ajv/dist/runtime/')),
  );
  t.deepEqual(unwanted, []);
});

test('`airlock call` of a wasm plugin checked before starts one wasm worker, before it loads the command and the host, and no manifest worker', async (t) => {
  await fixtureComponent('echo-c');
  const args = ['call', new URL('fixtures/plugins/echo-c', ROOT).pathname, 'echo', '{"message":"hi"}'];
  await traceModules(args);
  const mods = await traceModules(args);
  const threadsLoading = (m: string): number[] => [...new Set(mods.filter(([, x]) => x === m).map(([thread]) => thread))];
  t.is(threadsLoading('src/engines/wasm/worker.ts').length, 1, 'one wasm worker');
  t.deepEqual(threadsLoading('src/manifest/off-thread-worker.ts'), [], 'no manifest worker');
  // The worker is started (standby.ts prestart, synchronous once its module is in: the command's `prepare` in
  // src/cli/main.ts) before the command's code and the host's load.
  const main = mods.filter(([thread]) => thread === 0).map(([, m]) => m);
  const standby = main.indexOf('src/engines/wasm/standby.ts');
  t.true(standby >= 0, 'the standby is loaded on the main thread');
  t.true(standby < main.indexOf('src/cli/commands/call.ts'), 'the worker starts before the command loads');
  t.true(standby < main.indexOf('src/host/host.ts'), 'the worker starts before the host loads');
});
