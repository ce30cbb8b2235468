/**
 * `import('airlock')` loads only the host's own code (issue 21): the
 * manifest and policy schemas (zod, yaml, Ajv, RE2) load when a host is made
 * or a manifest checked, and the MCP front ends, engines, capabilities,
 * builds and the bench on first use; so do the Node built-ins that cost a
 * fresh process most (crypto ~10 ms, child_process, v8, net, worker_threads).
 * Checked on a module-load trace (test/helpers/module-trace.ts), not on time.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = new URL('../../', import.meta.url);

test('importing the package entry loads no schema library (zod, yaml, Ajv, RE2), MCP SDK, engine, capability, Docker client, build tool, bench or costly Node built-in', async (t) => {
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
      /^src\/(mcp|bench|cli|build|capabilities|egress)\//.test(m) ||
      // The registry's definitions stay (ENGINE_NAMES), with what their probes need; their refusals load on first use.
      /^src\/engines\/[^/]+\/(?!definition|daemon|locate)/.test(m) ||
      (/^node_modules\/(zod|yaml|ajv|re2js|smol-toml|esbuild|@modelcontextprotocol|dockerode|@bytecodealliance|piscina)\//.test(m) &&
        !m.endsWith('/package.json')) ||
      // Loaded on first use (process.getBuiltinModule): hashing, the manifest cache, a thread's start, a host pattern's IP check.
      /^node:(crypto|child_process|v8|net|worker_threads)$/.test(m),
  );
  t.deepEqual(unwanted, []);
});
