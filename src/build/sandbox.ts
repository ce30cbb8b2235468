/**
 * Compilers run on the host with the plugin author's source, and a compiler
 * reads whatever the source names: `#include "/home/me/.ssh/id_rsa"` or an
 * `.incbin` directive would put a host file into the component. So build
 * steps that run a host toolchain run under bubblewrap: a fresh mount
 * namespace with only /usr (the toolchain and system headers), the plugin
 * folder and the include folder read-only, the output folder writable, an
 * empty /tmp, no network, no host environment.
 *
 * Without bwrap such a build is refused, unless AIRLOCK_UNSANDBOXED_BUILDS=1
 * says the sources are trusted.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AirlockError } from '../errors.ts';

export interface SandboxMounts {
  /** Host paths visible read-only at the same path. */
  readOnly: string[];
  /** Host paths visible read-write at the same path. */
  writable: string[];
  /** Working directory inside the sandbox. */
  cwd: string;
}

let bwrap: string | null | undefined;

function findBwrap(): string | null {
  if (bwrap !== undefined) return bwrap;
  try {
    bwrap = execFileSync('sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).trim() || null;
  } catch {
    bwrap = null;
  }
  return bwrap;
}

/**
 * The command line that runs `file args` sandboxed; `what` names the step
 * for the error when no sandbox is available.
 */
export function sandboxed(
  file: string,
  args: string[],
  mounts: SandboxMounts,
  what: string,
  options: { env?: NodeJS.ProcessEnv; /** bwrap's path; null: none (default: found on PATH). */ bwrap?: string | null } = {},
): { file: string; args: string[] } {
  const env = options.env ?? process.env;
  const bw = options.bwrap === undefined ? findBwrap() : options.bwrap;
  if (bw === null) {
    if (env.AIRLOCK_UNSANDBOXED_BUILDS === '1') return { file, args };
    throw new AirlockError(
      'build-failed',
      `${what}: refusing to run the compiler on the plugin's sources without a sandbox (a source can make the compiler read any host file into the component); install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap), ship a prebuilt component, or set AIRLOCK_UNSANDBOXED_BUILDS=1 for sources you trust`,
      { details: { file: what } },
    );
  }
  const root: string[] = ['--ro-bind', '/usr', '/usr'];
  // Merged-/usr systems link these into /usr; others have real folders.
  for (const d of ['bin', 'lib', 'lib64', 'sbin']) {
    if (!existsSync(`/${d}`)) continue;
    root.push(...(existsSync(`/usr/${d}`) ? ['--symlink', `usr/${d}`, `/${d}`] : ['--ro-bind', `/${d}`, `/${d}`]));
  }
  return {
    file: bw,
    args: [
      ...root,
      '--proc', '/proc',
      '--dev', '/dev',
      '--tmpfs', '/tmp',
      ...mounts.readOnly.flatMap((p) => ['--ro-bind', p, p]),
      ...mounts.writable.flatMap((p) => ['--bind', p, p]),
      '--unshare-all',
      '--die-with-parent',
      '--new-session',
      '--clearenv',
      '--setenv', 'PATH', '/usr/bin:/bin',
      '--chdir', mounts.cwd,
      file,
      ...args,
    ],
  };
}
