/**
 * A process's state read from /proc, for tests that check who started a
 * process and that it ended (Linux only, like the engines that spawn).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** The parent pid and state letter of a process; undefined once it is gone. */
export function procStat(pid: number): { ppid: number; state: string } | undefined {
  try {
    // "pid (comm) state ppid ...": comm may hold spaces, so split after its closing parenthesis.
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(ppid), state: state as string };
  } catch {
    return undefined;
  }
}

/** Gone, or a zombie (it ended; an adoptive parent that does not reap keeps it as one). */
export function ended(pid: number): boolean {
  const s = procStat(pid);
  return s === undefined || s.state === 'Z';
}

/**
 * Waits for a process no event can report (one orphaned to init) to end,
 * polling up to a generous bound; false if it is still running then.
 */
export async function waitEnded(pid: number, boundMs = 30_000): Promise<boolean> {
  for (const end = Date.now() + boundMs; Date.now() < end; await sleep(50)) {
    if (ended(pid)) return true;
  }
  return ended(pid);
}
