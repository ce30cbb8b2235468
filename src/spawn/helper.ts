/**
 * The spawn helper's process (started by ./client.ts through `fork`): it
 * starts processes for the host, so the fork that starts each one copies
 * this small process, not the host's heap. It imports nothing but
 * child_process and the stream bound, and lives exactly as long as its IPC
 * channel: when the host goes (exits, crashes, is killed) the channel
 * closes, and the helper kills what it started and exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { SpawnHelperReply, SpawnHelperRequest } from '../protocol.ts';
import { HeadTail } from './head-tail.ts';

const running = new Map<number, ChildProcess>();

function reply(m: SpawnHelperReply): void {
  process.send?.(m);
}

function start(id: number, m: Extract<SpawnHelperRequest, { kind: 'spawn' }>): void {
  const stdout = new HeadTail(m.stdout.head, m.stdout.tail);
  const stderr = new HeadTail(m.stderr.head, m.stderr.tail);
  let overflow = false;
  let error: string | undefined;
  let child: ChildProcess;
  try {
    child = spawn(m.file, m.args, { env: m.env, cwd: m.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    // Refused before any fork (a NUL byte in an argument, a bad option): the host's call fails, not the helper.
    const none = { text: '', cut: false };
    reply({ kind: 'exit', id, code: null, signal: null, stdout: none, stderr: none, overflow: false, error: (e as Error).message });
    return;
  }
  running.set(id, child);
  if (child.pid !== undefined) reply({ kind: 'started', id, pid: child.pid });
  const bound = (h: HeadTail) => (c: Buffer) => {
    h.push(c);
    if (h.total > m.maxStreamBytes && !overflow) {
      overflow = true;
      child.kill('SIGKILL');
    }
  };
  child.stdout?.on('data', bound(stdout));
  child.stderr?.on('data', bound(stderr));
  child.on('error', (e) => {
    error = e.message;
  });
  child.on('close', (code, signal) => {
    running.delete(id);
    // Node reports a failed start as a close with the negated errno for a code: it never ran, so no status.
    const ran = child.pid !== undefined;
    reply({
      kind: 'exit',
      id,
      code: ran ? code : null,
      signal: ran ? signal : null,
      stdout: stdout.captured(),
      stderr: stderr.captured(),
      overflow,
      ...(error === undefined ? {} : { error }),
    });
  });
}

process.on('message', (m: SpawnHelperRequest) => {
  if (typeof m !== 'object' || m === null || typeof m.id !== 'number') return;
  if (m.kind === 'spawn') start(m.id, m);
  else if (m.kind === 'kill') running.get(m.id)?.kill(m.signal);
});

// The host is gone: nothing it started may outlive it.
process.on('disconnect', () => {
  for (const child of running.values()) child.kill('SIGKILL');
  process.exit(0);
});
