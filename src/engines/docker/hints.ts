/**
 * Hints for the errors a Docker plugin meets because of where it runs, each
 * only where it matches: a dependency missing from the image, a granted
 * folder the container's user may not use, a connection refused around a
 * loopback grant. The code and message come from the plugin's process (it can
 * write anything there), so a hint is only advice built from Airlock's own
 * knowledge (the grants) and never changes what the error means.
 */
import { CONTAINER_UID } from '../../capabilities/index.ts';
import type { Grants } from '../../grants/types.ts';
import { loopbackEntries } from './loopback.ts';

/** The hint for a Docker plugin's error (`code`: the plugin's own code or errno name), or undefined. */
export function dockerHint(grants: Grants, code: string, message: string): string | undefined {
  return missingDependency(grants.plugin.runtime, message) ?? grantAccess(grants, code, message) ?? loopback(grants, message);
}

function missingDependency(runtime: string, message: string): string | undefined {
  if (runtime === 'node') {
    const m = /Cannot find (?:package|module) '([^'\n]{1,200})'/.exec(message);
    if (m === null) return undefined;
    const spec = m[1] as string;
    if (spec.startsWith('/') || spec.startsWith('.') || spec.startsWith('file:')) {
      return `${spec} is not in the image: check that the file is in the plugin folder and not left out by .airlockignore or .dockerignore`;
    }
    if (spec.startsWith('node:')) return undefined;
    const parts = spec.split('/');
    const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
    return `add "${name}" to "dependencies" in package.json (devDependencies are not installed) and build again: the image installs only what package.json lists`;
  }
  if (runtime === 'python') {
    const m = /No module named '([^'\n]{1,200})'/.exec(message);
    if (m === null) return undefined;
    const name = (m[1] as string).split('.')[0] as string;
    return `add the package that provides "${name}" to requirements.txt (or pyproject.toml's [project].dependencies; its PyPI name can differ, e.g. PyYAML for yaml) and build again: the image installs only what they list, as wheels. A module of your own must be in the plugin folder, not left out by an ignore file`;
  }
  return undefined;
}

/** The first absolute path quoted in an error message (Node: `open '/data/x'`; Python: `Permission denied: '/data/x'`). */
function quotedPath(message: string): string | undefined {
  return /'(\/[^'\n]{0,4096})'/.exec(message)?.[1];
}

function under(mount: string, path: string): boolean {
  const m = mount.replace(/\/+$/, '');
  return path === m || path.startsWith(`${m}/`);
}

function grantAccess(grants: Grants, code: string, message: string): string | undefined {
  if (code !== 'EACCES' && code !== 'EPERM' && !/\bEACCES\b|Permission denied/.test(message)) return undefined;
  const path = quotedPath(message);
  if (path === undefined) return undefined;
  const grant = grants.filesystem.filter((g) => under(g.mount, path)).sort((a, b) => b.mount.length - a.mount.length)[0];
  if (grant === undefined) return undefined;
  const id = CONTAINER_UID;
  if (grant.access === 'read-write') {
    return `${grant.hostPath} is granted read-write at ${grant.mount}, but the plugin runs as uid ${id} (gid ${id}), which the host's permissions do not let write there. Give that uid access on the host: \`sudo chown -R ${id}:${id} ${grant.hostPath}\`, or \`setfacl -R -m u:${id}:rwX ${grant.hostPath}\` (or \`chmod -R o+rwX\`)`;
  }
  return `${grant.hostPath} is granted at ${grant.mount}, but the plugin runs as uid ${id}, which the host's permissions do not let read there. Give that uid access on the host: \`setfacl -R -m u:${id}:rX ${grant.hostPath}\` (or \`chmod -R o+rX\`)`;
}

const REFUSED = /\bECONNREFUSED\b|Connection refused|\[Errno 111\]/;
const LOOPBACK_IN_MESSAGE = /\b127\.\d{1,3}\.\d{1,3}\.\d{1,3}\b|\blocalhost\b|::1\b/;

function loopback(grants: Grants, message: string): string | undefined {
  if (!REFUSED.test(message)) return undefined;
  const entries = loopbackEntries(grants.network?.allow ?? []);
  if (entries.length > 0) {
    const shown = entries.map((p) => `${p.host.includes(':') ? `[${p.host}]` : p.host}${p.port === undefined ? '' : `:${p.port}`}`).join(', ');
    return `the grant ${shown} means this machine's loopback, reached only through the egress proxy in HTTP_PROXY/HTTPS_PROXY (Node's fetch, Python's urllib and requests use it); a client that connects directly reaches the container's own loopback, where nothing listens. If it went through the proxy, check that the server listens on this machine at that address and port`;
  }
  if (!LOOPBACK_IN_MESSAGE.test(message)) return undefined;
  return 'in the container, 127.0.0.1 and localhost are the container itself; to reach a server on this machine\'s loopback, grant its address and port (permissions.network.allow: ["127.0.0.1:PORT"]) and connect through the proxy in HTTP_PROXY';
}
