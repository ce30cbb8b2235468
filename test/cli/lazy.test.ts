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

/** The modules the main thread of `airlock <args>` loaded (file paths relative to the repository, and node: builtins). */
async function mainThreadModules(args: string[]): Promise<string[]> {
  const out = join(mkdtempSync(join(tmpdir(), 'airlock-trace-')), 'trace.txt');
  const trace = new URL('test/helpers/module-trace.ts', ROOT).href;
  await promisify(execFile)(process.execPath, [`--import=${trace}?out=${out}`, new URL('src/cli/main.ts', ROOT).pathname, ...args], {
    timeout: 90_000,
    env: { ...process.env, AIRLOCK_WASM_STANDBY: '0' },
  });
  return readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('0 '))
    .map((l) =>
      l
        .slice(2)
        .replace(ROOT.href, '')
        .replace(/^file:\/\/.*\/node_modules\//, 'node_modules/'),
    );
}

test('`airlock call` of a cached component loads no other command, no Docker client (it probes no engine it does not use), MCP, bench or build tool, and, called before, no zod or yaml', async (t) => {
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
      (/^node_modules\/(@modelcontextprotocol|@bytecodealliance\/(jco|componentize)|dockerode|docker-modem|ssh2|zod|yaml)\//.test(m) &&
        !m.endsWith('/package.json')),
  );
  t.deepEqual(unwanted, []);
});
