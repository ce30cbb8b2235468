/**
 * Plugin folders as tar archives, both ways, within fixed bounds. The writer
 * makes the same bytes from the same files (modes normalised to 0644/0755,
 * times and owners zeroed, PAX headers for long names): Docker build
 * contexts and the source bundles `airlock push` uploads. The extractor
 * unpacks a bundle from a registry, which is hostile: only regular files and
 * folders (no links, devices or FIFOs), relative paths without `..`, each
 * file created new (never through an existing path), and the entry count,
 * depth and total size capped before anything past the cap is written.
 */
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockError } from '../errors.ts';
import type { TreeLimits } from './limits.ts';

export interface TarEntry {
  /** POSIX path inside the archive (folders end in `/`). */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  data?: Buffer;
  executable?: boolean;
  linkTarget?: string;
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
export function tar(entries: readonly TarEntry[]): Buffer {
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

/** The same archive as tar(), produced one entry at a time: `entries` gives each (its data read) only when it is next. */
export async function* tarStream(entries: AsyncIterable<TarEntry> | Iterable<TarEntry>): AsyncGenerator<Buffer> {
  for await (const e of entries) {
    const one = tar([e]);
    // tar() closes each archive with two zero blocks; one closing pair ends the whole stream.
    yield one.subarray(0, one.length - 1024);
  }
  yield Buffer.alloc(1024);
}

const BLOCK = 512;
const CHUNK = 1024 * 1024;
/** A PAX header carries a long path and nothing we act on besides; more than this is not one of ours. */
const MAX_PAX_BYTES = 64 * 1024;

function bad(archive: string, message: string): AirlockError {
  return new AirlockError('invalid-manifest', `${archive}: ${message}; the bundle is refused (nothing from it is used)`, { details: { file: archive } });
}

function field(h: Buffer, start: number, length: number): string {
  const raw = h.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function number(archive: string, h: Buffer, start: number, length: number, what: string): number {
  const text = field(h, start, length).trim();
  if (!/^[0-7]{1,11}$/.test(text)) throw bad(archive, `the ${what} field of an entry is not an octal number`);
  return Number.parseInt(text, 8);
}

/** A relative path of plain segments; refuses absolute paths, `.`/`..`, empty segments, NUL and backslashes. */
function checkedPath(archive: string, raw: string, limits: TreeLimits): string[] {
  const path = raw.endsWith('/') ? raw.slice(0, -1) : raw;
  const parts = path.split('/');
  if (path === '' || path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\0') || p.includes('\\')))
    throw bad(archive, `the entry ${JSON.stringify(raw)} is not a plain relative path`);
  if (parts.length > limits.maxDepth + 1) throw bad(archive, `the entry ${JSON.stringify(raw)} is deeper than ${limits.maxDepth} folders`);
  return parts;
}

function paxPath(archive: string, data: Buffer): string | undefined {
  let path: string | undefined;
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const len = Number(data.subarray(at, space).toString('ascii'));
    if (space === -1 || !Number.isInteger(len) || len <= 0 || at + len > data.length) throw bad(archive, 'a PAX header is malformed');
    const record = data.subarray(space + 1, at + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    if (key === 'path') path = record.slice(eq + 1);
    else if (key === 'linkpath') throw bad(archive, 'an entry is a link');
    at += len;
  }
  return path;
}

/**
 * Unpacks the tar `archive` into `dest` (which must not exist: it is created), as
 * described above. Memory is bounded by one chunk whatever the archive holds.
 */
export async function extractTar(archive: string, dest: string, limits: TreeLimits): Promise<void> {
  await mkdir(dest);
  const handle = await open(archive, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const size = (await handle.stat()).size;
    const read = async (at: number, length: number): Promise<Buffer> => {
      if (at + length > size) throw bad(archive, 'it ends in the middle of an entry');
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, at);
      if (bytesRead !== length) throw bad(archive, 'it ends in the middle of an entry');
      return buffer;
    };
    let at = 0;
    let entries = 0;
    let bytes = 0;
    let longPath: string | undefined;
    while (at + BLOCK <= size) {
      const h = await read(at, BLOCK);
      at += BLOCK;
      if (h.every((b) => b === 0)) return;
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
      if (number(archive, h, 148, 8, 'checksum') !== sum) throw bad(archive, 'an entry header has a wrong checksum');
      const type = String.fromCharCode(h[156]!);
      const length = number(archive, h, 124, 12, 'size');
      const padded = Math.ceil(length / BLOCK) * BLOCK;
      if (type === 'x') {
        if (length > MAX_PAX_BYTES) throw bad(archive, 'a PAX header is too large');
        longPath = paxPath(archive, await read(at, length));
        at += padded;
        continue;
      }
      const prefix = field(h, 345, 155);
      const name = longPath ?? (prefix === '' ? field(h, 0, 100) : `${prefix}/${field(h, 0, 100)}`);
      longPath = undefined;
      if (++entries > limits.maxEntries) throw bad(archive, `it has more than ${limits.maxEntries} entries`);
      const parts = checkedPath(archive, name, limits);
      const target = join(dest, ...parts);
      const folder = (path: string): Promise<unknown> =>
        mkdir(path, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
          throw bad(archive, `the entry ${JSON.stringify(name)} needs a folder where a file is (${err.code ?? err.message})`);
        });
      if (type === '5') {
        await folder(target);
      } else if (type === '0' || type === '\0') {
        bytes += length;
        if (bytes > limits.maxBytes) throw bad(archive, `its files hold more than ${limits.maxBytes} bytes`);
        // Parents are folders this function made (the archive has no links), so the path cannot lead out of dest.
        if (parts.length > 1) await folder(join(dest, ...parts.slice(0, -1)));
        const executable = (number(archive, h, 100, 8, 'mode') & 0o111) !== 0;
        const out = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, executable ? 0o755 : 0o644).catch(
          (err: NodeJS.ErrnoException) => {
            throw bad(archive, `the entry ${JSON.stringify(name)} cannot be created (${err.code ?? err.message}: twice in the archive?)`);
          },
        );
        try {
          for (let done = 0; done < length; ) {
            const n = Math.min(CHUNK, length - done);
            await out.write(await read(at + done, n));
            done += n;
          }
        } finally {
          await out.close();
        }
      } else {
        const kinds: Record<string, string> = { '1': 'a hard link', '2': 'a symlink', '3': 'a character device', '4': 'a block device', '6': 'a FIFO' };
        throw bad(
          archive,
          `the entry ${JSON.stringify(name)} is ${kinds[type] ?? `of type ${JSON.stringify(type)}`}; bundles hold regular files and folders only`,
        );
      }
      at += padded;
    }
    throw bad(archive, 'it has no end-of-archive marker');
  } finally {
    await handle.close();
  }
}
