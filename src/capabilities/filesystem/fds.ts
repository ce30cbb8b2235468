/**
 * Every fd the filesystem layer opens goes through here, so a plugin holds
 * at most MAX_OPEN_FDS files open (one worker serves one plugin, so this
 * module-level count is per plugin worker). fds a worker still holds when it
 * is terminated (timeout, abort) are closed by Node itself: workers are
 * started with `trackUnmanagedFds: true`.
 */
import { closeSync, type Dir, openSync, opendirSync } from 'node:fs';

export const MAX_OPEN_FDS = 1024;

let open = 0;

export function openFd(path: string, flags: number, mode?: number): number {
  if (open >= MAX_OPEN_FDS) throw 'insufficient-memory';
  const fd = openSync(path, flags, mode);
  open++;
  return fd;
}

export function closeFd(fd: number): void {
  closeSync(fd);
  open--;
}

/** Opens a directory listing (its own fd, counted like any other), read `batch` entries at a time. */
export function openDir(path: string, batch: number): Dir {
  if (open >= MAX_OPEN_FDS) throw 'insufficient-memory';
  const dir = opendirSync(path, { bufferSize: batch });
  open++;
  return dir;
}

export function closeDir(dir: Dir): void {
  try {
    dir.closeSync();
  } catch {
    return; // already closed
  }
  open--;
}

/** Closes the fd registered with an object once that object is collected (unregister on an explicit close). */
export const closeOnCollect = new FinalizationRegistry<number>((fd) => {
  try {
    closeFd(fd);
  } catch {
    /* already closed */
  }
});
