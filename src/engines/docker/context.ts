/**
 * The build context of a plugin image: the plugin folder (minus what its
 * ignore file leaves out) under `plugin/`, Airlock's own files under
 * `.airlock/`, as one uncompressed tar in memory. Files go to Docker only as
 * uncompressed archives (a compressed archive sent to a container is unpacked
 * by the container's own tools as host root, GHSA-x86f-5xw2-fm2r). Modes are
 * normalised and times zeroed, so the same files give the same bytes.
 */
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockError } from '../../errors.ts';
import { MANIFEST_FILE } from '../../manifest/index.ts';
import { linearRegExp, trimSlashes, type LinearRegExp } from '../../manifest/regexp.ts';

/** Left out of every context: VCS data, host-built dependencies, bytecode caches. */
export const DEFAULT_IGNORES = ['.git', 'node_modules', '__pycache__', '*.pyc', '.venv', '.airlock-cache', '.DS_Store'];
/** The ignore files read, first found wins: `.airlockignore`, else `.dockerignore`. */
export const IGNORE_FILES = ['.airlockignore', '.dockerignore'];
const MAX_FILES = 20_000;
const MAX_BYTES = 512 * 1024 * 1024;

interface Rule {
  re: LinearRegExp;
  negate: boolean;
  dirOnly: boolean;
}

function globToRegExp(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches any number of folders, `**` anything.
        if (glob[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i += 1;
        }
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') out += '[^/]';
    else if ('\\^$+.()|{}[]'.includes(c)) out += `\\${c}`;
    else out += c;
  }
  return out;
}

/** A matcher for gitignore-style patterns (`#` comments, `!` negation, trailing `/` for folders, leading `/` anchors). */
export function ignoreMatcher(patterns: readonly string[]): (relPath: string, isDirectory: boolean) => boolean {
  const rules: Rule[] = [];
  for (const raw of patterns) {
    let p = raw.trim();
    if (p === '' || p.startsWith('#')) continue;
    const negate = p.startsWith('!');
    if (negate) p = p.slice(1);
    const dirOnly = p.endsWith('/');
    p = trimSlashes(p);
    // Docker's form `./x` and gitignore's `/x` both anchor at the root; a pattern with a `/` inside is anchored too.
    p = p.replace(/^\.\//, '');
    const anchored = p.startsWith('/') || p.includes('/');
    p = p.replace(/^\/+/, '');
    if (p === '') continue;
    const body = globToRegExp(p);
    // RE2, not V8: `*a*a*a*b` from the plugin's ignore file would backtrack polynomially over every path.
    rules.push({ re: linearRegExp(`^${anchored ? '' : '(?:.*/)?'}${body}$`), negate, dirOnly });
  }
  return (relPath, isDirectory) => {
    let ignored = false;
    for (const r of rules) {
      if (r.dirOnly && !isDirectory) continue;
      if (r.re.test(relPath)) ignored = !r.negate;
    }
    return ignored;
  };
}

/** The ignore rules of a plugin folder: the defaults plus its ignore file's. */
export async function pluginIgnore(dir: string): Promise<{ file: string | undefined; ignore: (relPath: string, isDirectory: boolean) => boolean }> {
  for (const name of IGNORE_FILES) {
    try {
      const text = await readFile(join(dir, name), 'utf8');
      return { file: name, ignore: ignoreMatcher([...DEFAULT_IGNORES, ...text.split(/\r?\n/)]) };
    } catch {
      // next
    }
  }
  return { file: undefined, ignore: ignoreMatcher(DEFAULT_IGNORES) };
}

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

/** The plugin folder's entries (ignore rules applied), sorted, under `prefix`. */
export async function collectPlugin(dir: string, ignore: (relPath: string, isDirectory: boolean) => boolean, prefix = 'plugin'): Promise<ContextEntry[]> {
  const out: ContextEntry[] = [{ path: `${prefix}/`, type: 'dir' }];
  let bytes = 0;
  const walk = async (abs: string, rel: string): Promise<void> => {
    const entries = (await readdir(abs, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      const p = join(abs, e.name);
      if (ignore(r, e.isDirectory()) || (rel === '' && NOT_IN_IMAGE.has(e.name))) continue;
      if (out.length > MAX_FILES) throw new AirlockError('build-failed', `${dir} has more than ${MAX_FILES} files; list what the image does not need in .airlockignore`);
      if (e.isDirectory()) {
        out.push({ path: `${prefix}/${r}/`, type: 'dir' });
        await walk(p, r);
      } else if (e.isSymbolicLink()) {
        out.push({ path: `${prefix}/${r}`, type: 'symlink', linkTarget: await readlink(p) });
      } else if (e.isFile()) {
        const data = await readFile(p);
        bytes += data.length;
        if (bytes > MAX_BYTES) throw new AirlockError('build-failed', `${dir} holds more than ${MAX_BYTES >> 20} MiB; list what the image does not need in .airlockignore`);
        out.push({ path: `${prefix}/${r}`, type: 'file', data, executable: ((await lstat(p)).mode & 0o111) !== 0 });
      }
    }
  };
  await walk(dir, '');
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
