/**
 * `import('airlock')` loads only what a host needs to load plugins (issue
 * 21): the MCP front ends, the Docker engine and client, builds and the
 * bench load on first use. Checked on a module-load trace
 * (test/helpers/module-trace.ts), not on time.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = new URL('../../', import.meta.url);

test('importing the package entry loads no MCP SDK, Docker engine or client, build tool or bench', async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'airlock-trace-')), 'trace.txt');
  const trace = new URL('test/helpers/module-trace.ts', ROOT).href;
  const entry = new URL('src/index.ts', ROOT).href;
  await promisify(execFile)(process.execPath, [`--import=${trace}?out=${out}`, '--input-type=module', '-e', `await import(${JSON.stringify(entry)})`], {
    timeout: 90_000,
  });
  const mods = readFileSync(out, 'utf8')
    .split('\n')
    .map((l) =>
      l
        .slice(l.indexOf(' ') + 1)
        .replace(ROOT.href, '')
        .replace(/^file:\/\/.*\/node_modules\//, 'node_modules/'),
    );
  t.true(mods.includes('src/host/index.ts'), 'the trace sees the host');
  const unwanted = mods.filter(
    (m) =>
      /^src\/(mcp|bench|cli)\//.test(m) ||
      /^src\/engines\/(docker|wasm|wasmtime)\/(?!definition|options|daemon|flags|locate)/.test(m) ||
      (/^node_modules\/(@modelcontextprotocol|dockerode|@bytecodealliance|piscina)/.test(m) && !m.endsWith('/package.json')),
  );
  t.deepEqual(unwanted, []);
});
