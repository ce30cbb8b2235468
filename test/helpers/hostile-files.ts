/**
 * Hostile entries for plugin folders: FIFOs, sockets, devices, symlink loops
 * and symlinks out of the folder (what a plugin author can put in a folder
 * Airlock reads).
 */
import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';

export function fifo(path: string): string {
  execFileSync('mkfifo', [path]);
  return path;
}

/** A unix socket file, left behind by a process that bound it and exited. */
export function socket(path: string): string {
  execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path]);
  return path;
}

/** /dev/zero's device numbers at `path` (needs root, as the test machine runs). */
export function device(path: string): string {
  execFileSync('mknod', [path, 'c', '1', '5']);
  return path;
}

/** `a` -> `b` -> `a`. */
export function loop(a: string, b: string): string {
  symlinkSync(b, a);
  symlinkSync(a, b);
  return a;
}

export function linkTo(target: string, path: string): string {
  symlinkSync(target, path);
  return path;
}
