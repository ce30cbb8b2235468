/**
 * The build context of a plugin image: the plugin folder (minus what its
 * ignore file leaves out) under `plugin/`, Airlock's own files under
 * `.airlock/`, as one uncompressed tar in memory. Files go to Docker only as
 * uncompressed archives (a compressed archive sent to a container is unpacked
 * by the container's own tools as host root, GHSA-x86f-5xw2-fm2r). Modes are
 * normalised and times zeroed, so the same files give the same bytes.
 */
import { MANIFEST_FILE } from '../../manifest/index.ts';
import { readPluginFile, walkPluginTree, type Ignore } from '../../plugin-files/index.ts';

// Ignore files are read and matched by src/plugin-files (bounded, no regular expressions).
export { DEFAULT_IGNORES, IGNORE_FILES, ignoreMatcher, pluginIgnore } from '../../plugin-files/index.ts';

export interface ContextEntry {
  /** POSIX path inside the archive. */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  data?: Buffer;
  executable?: boolean;
  linkTarget?: string;
}

/**
 * Left out of the image: the manifest. Nothing in the container reads it, and what of it shapes the image
 * (entry, `build:`) is in the generated Dockerfile, so changing permissions or limits rebuilds nothing.
 */
const NOT_IN_IMAGE = new Set([MANIFEST_FILE]);

/** The plugin folder's entries (ignore rules applied), sorted, under `prefix`; walked and read with src/plugin-files' bounds. */
export async function collectPlugin(dir: string, ignore: Ignore, prefix = 'plugin'): Promise<ContextEntry[]> {
  const { folder, entries } = await walkPluginTree(dir, {
    code: 'build-failed',
    ignore: (rel, isDir) => ignore(rel, isDir) || (!rel.includes('/') && NOT_IN_IMAGE.has(rel)),
    hint: 'list what the image does not need in .airlockignore',
  });
  const out: ContextEntry[] = [{ path: `${prefix}/`, type: 'dir' }];
  for (const e of entries) {
    if (e.type === 'dir') out.push({ path: `${prefix}/${e.rel}/`, type: 'dir' });
    else if (e.type === 'symlink') out.push({ path: `${prefix}/${e.rel}`, type: 'symlink', linkTarget: e.linkTarget! });
    else
      out.push({
        path: `${prefix}/${e.rel}`,
        type: 'file',
        data: await readPluginFile(folder, e.rel, { code: 'build-failed', maxBytes: e.size }),
        executable: e.executable,
      });
  }
  return out;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, type: string, size: number, mode: number, linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

function pad(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** A PAX record `"<len> key=value\n"`, whose length counts itself. */
function paxRecord(key: string, value: string): string {
  const body = Buffer.byteLength(` ${key}=${value}\n`);
  let len = body + 1;
  while (String(len).length + body !== len) len = String(len).length + body;
  return `${len} ${key}=${value}\n`;
}

/** An uncompressed POSIX tar of the entries (PAX headers for long names and link targets). */
export function tar(entries: readonly ContextEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const link = e.linkTarget ?? '';
    const long = Buffer.byteLength(e.path) > 100 || Buffer.byteLength(link) > 100;
    if (long) {
      const pax = Buffer.from(paxRecord('path', e.path) + (link === '' ? '' : paxRecord('linkpath', link)), 'utf8');
      parts.push(header('PaxHeader', 'x', pax.length, 0o644), pax, pad(pax.length));
    }
    const name = long ? e.path.slice(0, 99) : e.path;
    if (e.type === 'dir') parts.push(header(name, '5', 0, 0o755));
    else if (e.type === 'symlink') parts.push(header(name, '2', 0, 0o777, long ? link.slice(0, 99) : link));
    else {
      const data = e.data ?? Buffer.alloc(0);
      parts.push(header(name, '0', data.length, e.executable === true ? 0o755 : 0o644), data, pad(data.length));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
