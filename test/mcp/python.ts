/**
 * The Python MCP clients (test/mcp/clients/*.py) driving Airlock's MCP server: over stdio the client starts
 * `airlock serve`, over HTTP the test starts `airlock serve --http` and gives the client its URL and token.
 * The clients live in the virtualenv `.ci/setup-toolchain.sh` makes (AIRLOCK_MCP_PYTHON names another interpreter).
 */
import type { ExecutionContext } from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireExternal } from '../helpers/require.ts';
import { MAIN, startServe } from '../helpers/serve.ts';

const cacheRoot = process.env.AIRLOCK_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'airlock');
export const PYTHON = process.env.AIRLOCK_MCP_PYTHON ?? join(cacheRoot, 'mcp-python-2', 'bin', 'python');

/** Whether the interpreter imports `modules`; skips loudly, or fails under AIRLOCK_REQUIRE_MCP_PYTHON=1 (CI), when not. */
export function hasPythonClients(modules: string, what: string): boolean {
  const probe = spawnSync(PYTHON, ['-c', `import ${modules}`], { encoding: 'utf8' });
  return requireExternal('mcp-python', probe.status === 0, `no ${what} at ${PYTHON} (run .ci/setup-toolchain.sh)`);
}

export type Transport = 'stdio' | 'http';
export const TRANSPORTS: Transport[] = ['stdio', 'http'];

/** Runs clients/<client>.py: it calls `tool` with `input` on `airlock <serve…>` over `transport`; returns its JSON report. */
export async function drive(
  t: ExecutionContext,
  client: string,
  transport: Transport,
  serve: string[],
  tool: string,
  input: unknown,
): Promise<Record<string, unknown>> {
  const script = fileURLToPath(new URL(`./clients/${client}.py`, import.meta.url));
  let target: string[];
  if (transport === 'stdio') target = ['--', process.execPath, MAIN, ...serve];
  else {
    const serving = await startServe(t, [...serve, '--http', '127.0.0.1:0']);
    target = ['--url', serving.url, '--token', serving.token ?? ''];
  }
  const stdout = await new Promise<string>((resolve, reject) =>
    // Bounded generously: a busy machine may build components on first use; nothing here waits on a short window.
    execFile(PYTHON, [script, tool, JSON.stringify(input), ...target], { timeout: 300_000, maxBuffer: 4 << 20 }, (err, out, errOut) =>
      err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out),
    ),
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}
