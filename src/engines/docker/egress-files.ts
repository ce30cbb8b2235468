/**
 * What a container needs to run the standalone proxy: the src/egress folder
 * (main.ts and the files it imports) and the ipaddr.js package, copied into
 * the proxy's image (./egress-image.ts), plus the command. Any image with Node >= 22.18 will do (type
 * stripping runs the .ts files; the built dist/ folder holds .js instead).
 * Module resolution walks up from <root>/main.ts to <root>/../node_modules,
 * which is where ipaddr.js is mounted.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EGRESS_CONFIG_ENV } from '../../egress/index.ts';

export interface EgressRuntimeFile {
  hostPath: string;
  containerPath: string;
}

export interface EgressRuntime {
  /** Host folders and where they go in the proxy's image. */
  mounts: EgressRuntimeFile[];
  /** Container command, e.g. ['node', '/opt/airlock-egress/main.ts']. */
  command: string[];
  /** Put the JSON config (config.ts) in this environment variable, or append it to `command`. */
  configEnv: string;
}

/** `root`: absolute container folder for the proxy's files; ipaddr.js goes to `<dirname(root)>/node_modules/ipaddr.js`. */
export function egressRuntimeFiles(root = '/opt/airlock-egress'): EgressRuntime {
  if (!path.posix.isAbsolute(root) || path.posix.dirname(root) === root)
    throw new TypeError(`egressRuntimeFiles: root must be an absolute folder below /, got "${root}"`);
  const here = fileURLToPath(import.meta.url);
  // The egress module's folder, beside this one's engines/ folder in src/ (or dist/).
  const egressDir = fileURLToPath(new URL('../../egress/', import.meta.url));
  const ipaddrDir = path.dirname(createRequire(import.meta.url).resolve('ipaddr.js/package.json'));
  return {
    mounts: [
      { hostPath: path.resolve(egressDir), containerPath: root },
      { hostPath: ipaddrDir, containerPath: path.posix.join(path.posix.dirname(root), 'node_modules', 'ipaddr.js') },
    ],
    // Same extension as this file: .ts from src/, .js from dist/.
    command: ['node', path.posix.join(root, `main${path.extname(here)}`)],
    configEnv: EGRESS_CONFIG_ENV,
  };
}
