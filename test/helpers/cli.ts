/** Runs the CLI in-process with captured output. */
import { runCli } from '../../src/cli/main.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[], options: { stdin?: string; cwd?: string } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    stdin: async () => options.stdin ?? '',
    cwd: options.cwd ?? process.cwd(),
    isTTY: false,
  });
  return { code, stdout, stderr };
}
