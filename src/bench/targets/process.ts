/** One child process for the per-call baselines: stdin in, stdout out, killed when the signal aborts. */
import { spawn } from 'node:child_process';
import { AirlockError } from '../../errors.ts';

export interface ProcessRun {
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** Called with stdout so far; returning true closes stdin (a host that serves until EOF). */
  onStdout?: (stdout: string) => boolean;
}

export function runProcess(command: string, args: string[], run: ProcessRun): Promise<string> {
  return new Promise((resolve, reject) => {
    if (run.signal.aborted) {
      reject(new AirlockError('aborted', `${command} was not started: the benchmark was aborted`));
      return;
    }
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: run.signal,
      killSignal: 'SIGKILL',
      ...(run.env === undefined ? {} : { env: run.env }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      if (run.onStdout?.(stdout) === true) child.stdin.end();
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString('utf8');
    });
    child.on('error', (e) => {
      reject(
        run.signal.aborted
          ? new AirlockError('aborted', `${command} was killed: the benchmark was aborted`)
          : new AirlockError('crash', `${command}: ${e.message}`, { cause: e }),
      );
    });
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else if (!run.signal.aborted)
        reject(new AirlockError('crash', `${command} ${args.slice(0, 2).join(' ')} exited with ${code}: ${stderr.trim().slice(0, 500)}`));
    });
    child.stdin.on('error', () => undefined);
    if (run.stdin !== undefined) child.stdin.write(run.stdin);
    if (run.onStdout === undefined) child.stdin.end();
  });
}
