/** `airlock serve --http` as a child process, the way a user runs it: started, read for its URL and token, stopped. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { tempDir } from './plugin.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MAIN = join(ROOT, 'src/cli/main.ts');

export function processEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}

export interface Serving {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** The generated token and the file it was written to (absent when the user gave one). */
  token?: string;
  tokenFile?: string;
  stderr(): string;
}

/** Starts `airlock serve <args>` with its own XDG_RUNTIME_DIR; settles once it says where it serves. */
export async function startServe(t: ExecutionContext, args: string[], env: Record<string, string> = {}): Promise<Serving> {
  const runtime = tempDir('airlock-run-');
  const child = spawn(process.execPath, [MAIN, 'serve', ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...processEnv(), XDG_RUNTIME_DIR: runtime, ...env },
  });
  t.teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /serving \d+ tools over MCP at (http:\/\/\S+)/.exec(stderr);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before listening: ${stderr}`)));
  });
  const m = /bearer token \(shown once; also in (\S+), mode 0600, removed at shutdown\): (\S+)/.exec(stderr);
  return { child, url, ...(m === null ? {} : { tokenFile: m[1], token: m[2] }), stderr: () => stderr };
}

/** SIGTERM, then the exit code once it has exited. */
export async function stopServe(serving: Serving): Promise<number | null> {
  const exited = once(serving.child, 'exit');
  serving.child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}
