/**
 * The CLI in a child process, as a user runs it (builds spawn sandboxed children, and componentize-js hands
 * its process.stdout to one, which a test worker thread's stdout cannot be).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface ChildRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function airlockChild(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<ChildRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd, env, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

/** `airlock call <dir> <tool> <input> --json`: the value, or a failure naming what went wrong. */
export async function callJson(
  dir: string,
  tool: string,
  input: unknown,
  env?: NodeJS.ProcessEnv,
): Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string }; raw: ChildRun }> {
  const raw = await airlockChild(['call', dir, tool, JSON.stringify(input), '--json'], dir, env);
  let parsed: { ok?: boolean; value?: unknown; error?: { code: string; message: string } } = {};
  try {
    parsed = JSON.parse(raw.stdout) as typeof parsed;
  } catch {
    parsed = { ok: false, error: { code: 'unparsed', message: raw.stdout + raw.stderr } };
  }
  return { ok: parsed.ok === true, value: parsed.value, ...(parsed.error === undefined ? {} : { error: parsed.error }), raw };
}
