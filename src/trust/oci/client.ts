/**
 * The slice of the OCI distribution API Airlock needs, over fetch: blob
 * upload (POST then PUT), manifest PUT and GET by tag or digest. What a
 * registry sends back is hostile: manifests and blobs are read with a byte
 * cap fixed before the first byte, and every blob is hashed while it streams
 * and refused (digest-mismatch) unless it is exactly the bytes its digest names.
 */
import { createHash } from 'node:crypto';
import dns, { type LookupAddress } from 'node:dns';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request } from 'node:https';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { addressRange, canonicalIp } from '../../egress/index.ts';
import { AirlockError } from '../../errors.ts';
import type { Reference } from './reference.ts';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** A manifest is a page of JSON; a registry sending more is not serving one. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Every request ends within this (a blob of hundreds of MiB on a slow link included). */
const REQUEST_TIMEOUT_MS = 10 * 60 * 1000;
/** Redirects followed for one read (registries send blob downloads to a CDN). */
const MAX_REDIRECTS = 5;

/**
 * Where a registry may send this process: its own origin, or an https URL whose host is a public address or a
 * name (which must resolve to public addresses only: publicLookup, as it is dialled). Not loopback, private or
 * link-local: the registry is hostile, and this process's network may reach what the registry's cannot (what
 * comes back is digest-checked anyway; the request itself is the harm).
 */
function allowedTarget(url: URL, base: string): boolean {
  if (url.origin === new URL(base).origin) return true;
  if (url.protocol !== 'https:' || url.hostname === 'localhost' || url.hostname.endsWith('.localhost')) return false;
  const ip = canonicalIp(url.hostname);
  return ip === undefined || addressRange(ip) === 'unicast';
}

/** A redirect target's name resolved to a non-public address: refused where the connection would be made. */
class NonPublicAddress extends Error {
  readonly address: string;
  readonly range: string;
  constructor(address: string, range: string) {
    super(`${address} is ${range}`);
    this.address = address;
    this.range = range;
  }
}

/**
 * dns.lookup for a host a registry redirected to by name: every address must be public unicast. Node connects to
 * what this returns, so the name is checked and dialled in one resolution (a second answer cannot rebind it).
 */
const publicLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err !== null) return callback(err, '', 4);
    for (const a of addresses) {
      const ip = canonicalIp(a.address);
      const range = ip === undefined ? 'not an IP address' : addressRange(ip);
      if (range !== 'unicast') return callback(new NonPublicAddress(a.address, range) as NodeJS.ErrnoException, '', 4);
    }
    if (options.all === true) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0];
    if (first === undefined) return callback(Object.assign(new Error(`${hostname} resolved to no address`), { code: 'ENOTFOUND' }), '', 4);
    callback(null, first.address, first.family);
  });
};

/** A read (GET or HEAD) from a host the registry redirected to, over node:https with publicLookup, as a fetch Response. */
function redirectedRead(url: URL, method: string, headers: Record<string, string> | undefined, signal: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, lookup: publicLookup, signal, ...(headers === undefined ? {} : { headers }) }, (res) => {
      try {
        const status = res.statusCode ?? 0;
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) for (const x of v === undefined ? [] : [v].flat()) h.append(k, x);
        const empty = method === 'HEAD' || status === 204 || status === 205 || status === 304;
        if (empty) res.resume();
        resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, headers: h }));
      } catch (err) {
        res.destroy();
        reject(err);
      }
    });
    req.on('error', reject);
    req.end();
  });
}

export const MANIFEST_ACCEPT = 'application/vnd.oci.image.manifest.v1+json';

export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function registryError(ref: Reference, what: string, detail: string, cause?: unknown): AirlockError {
  return new AirlockError('registry-error', `${ref.registry}/${ref.repository}: ${what}: ${detail}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { registry: ref.registry, repository: ref.repository },
  });
}

function mismatch(ref: Reference, what: string, expected: string, actual: string): AirlockError {
  return new AirlockError(
    'digest-mismatch',
    `${ref.registry}/${ref.repository}: the registry served other bytes for ${what}: expected ${expected}, got ${actual}; nothing from it is used (the registry or the path to it altered the content)`,
    { details: { registry: ref.registry, repository: ref.repository, expected, actual } },
  );
}

export class Registry {
  readonly #ref: Reference;

  constructor(ref: Reference) {
    this.#ref = ref;
  }

  /** One request; reads (GET, HEAD) follow redirects to allowed targets only (allowedTarget), writes none. */
  async #fetch(method: string, url: string, what: string, init: { headers?: Record<string, string>; body?: Uint8Array } = {}): Promise<Response> {
    let target = url;
    for (let hops = 0; ; hops++) {
      let response: Response;
      const at = new URL(target);
      const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
      try {
        response =
          at.origin === new URL(this.#ref.base).origin
            ? await fetch(target, {
                method,
                redirect: 'manual',
                ...(init.headers === undefined ? {} : { headers: init.headers }),
                ...(init.body === undefined ? {} : { body: init.body }),
                signal,
              })
            : await redirectedRead(at, method, init.headers, signal);
      } catch (err) {
        if (err instanceof NonPublicAddress)
          throw registryError(
            this.#ref,
            what,
            `redirected to ${at.origin}, whose name resolves to ${err.address}, a ${err.range} address; refused (a registry may send reads only to public hosts)`,
            err,
          );
        throw registryError(this.#ref, what, `cannot reach ${at.origin} (${(err as Error).cause ?? (err as Error).message})`, err);
      }
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || location === null || (method !== 'GET' && method !== 'HEAD')) return response;
      await response.body?.cancel();
      const next = new URL(location, target);
      if (hops >= MAX_REDIRECTS) throw registryError(this.#ref, what, `more than ${MAX_REDIRECTS} redirects`);
      if (!allowedTarget(next, this.#ref.base))
        throw registryError(this.#ref, what, `redirected to ${next.origin}, which is not the registry nor a public https host; refused`);
      target = next.toString();
    }
  }

  async #expect(response: Response, ok: number[], what: string): Promise<Response> {
    if (ok.includes(response.status)) return response;
    const text = await readCapped(response, 4096).then(
      (b) => b.toString('utf8'),
      () => '',
    );
    if (response.status === 404) throw new AirlockError('not-found', `${this.#ref.registry}/${this.#ref.repository}: ${what}: not found (404)`);
    throw registryError(this.#ref, what, `HTTP ${response.status} ${text.slice(0, 300)}`);
  }

  #url(path: string): string {
    return `${this.#ref.base}/v2/${this.#ref.repository}/${path}`;
  }

  /** Uploads a blob unless the registry has it; returns its descriptor. */
  async pushBlob(data: Uint8Array, mediaType: string, annotations?: Record<string, string>): Promise<Descriptor> {
    const digest = sha256Digest(data);
    const descriptor: Descriptor = { mediaType, digest, size: data.length, ...(annotations === undefined ? {} : { annotations }) };
    const head = await this.#fetch('HEAD', this.#url(`blobs/${digest}`), `checking blob ${digest}`);
    if (head.status === 200) return descriptor;
    const start = await this.#expect(await this.#fetch('POST', this.#url('blobs/uploads/'), 'starting an upload'), [202], 'starting an upload');
    const location = start.headers.get('location');
    if (location === null) throw registryError(this.#ref, 'starting an upload', 'no Location header');
    const url = new URL(location, this.#ref.base);
    // The upload goes where the registry says, but only on the registry itself: never to a host it names.
    if (url.origin !== new URL(this.#ref.base).origin)
      throw registryError(this.#ref, 'starting an upload', `the upload Location points at ${url.origin}, not the registry; refused`);
    url.searchParams.set('digest', digest);
    await this.#expect(
      await this.#fetch('PUT', url.toString(), `uploading blob ${digest}`, { headers: { 'content-type': 'application/octet-stream' }, body: data }),
      [201],
      `uploading blob ${digest}`,
    );
    return descriptor;
  }

  /** Stores a manifest under a tag; returns its digest. */
  async putManifest(tag: string, body: Uint8Array, mediaType: string): Promise<string> {
    const digest = sha256Digest(body);
    const response = await this.#expect(
      await this.#fetch('PUT', this.#url(`manifests/${tag}`), `storing the manifest as ${tag}`, { headers: { 'content-type': mediaType }, body }),
      [201],
      `storing the manifest as ${tag}`,
    );
    const said = response.headers.get('docker-content-digest');
    if (said !== null && said !== digest) throw mismatch(this.#ref, 'the manifest it stored', digest, said);
    return digest;
  }

  /** A manifest by tag or digest (at most MAX_MANIFEST_BYTES); by digest, refused unless its bytes have that digest. */
  async getManifest(reference: string): Promise<{ bytes: Buffer; digest: string }> {
    const what = `reading the manifest ${reference}`;
    const response = await this.#expect(
      await this.#fetch('GET', this.#url(`manifests/${reference}`), what, { headers: { accept: MANIFEST_ACCEPT } }),
      [200],
      what,
    );
    const bytes = await readCapped(response, MAX_MANIFEST_BYTES).catch((err: unknown) => {
      throw registryError(this.#ref, what, `more than ${MAX_MANIFEST_BYTES} bytes: not a manifest`, err);
    });
    const digest = sha256Digest(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) throw mismatch(this.#ref, `the manifest ${reference}`, reference, digest);
    return { bytes, digest };
  }

  /** A small blob in memory (a config), verified. */
  async getBlob(d: Descriptor, maxBytes: number): Promise<Buffer> {
    if (d.size > maxBytes) throw registryError(this.#ref, `reading blob ${d.digest}`, `${d.size} bytes; the limit is ${maxBytes}`);
    const what = `reading blob ${d.digest}`;
    const response = await this.#expect(await this.#fetch('GET', this.#url(`blobs/${d.digest}`), what), [200], what);
    const bytes = await readCapped(response, d.size).catch(() => {
      throw mismatch(this.#ref, `blob ${d.digest}`, `${d.size} bytes`, 'more');
    });
    const actual = sha256Digest(bytes);
    if (actual !== d.digest || bytes.length !== d.size) throw mismatch(this.#ref, `blob ${d.digest}`, d.digest, actual);
    return bytes;
  }

  /** A blob streamed to `file` and hashed on the way; the file is removed unless the bytes are exactly those the descriptor names. */
  async downloadBlob(d: Descriptor, file: string, maxBytes: number): Promise<void> {
    if (d.size > maxBytes) throw registryError(this.#ref, `reading blob ${d.digest}`, `${d.size} bytes; the limit is ${maxBytes}`);
    const what = `reading blob ${d.digest}`;
    const response = await this.#expect(await this.#fetch('GET', this.#url(`blobs/${d.digest}`), what), [200], what);
    const hash = createHash('sha256');
    const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
    let size = 0;
    try {
      for await (const chunk of streamOf(response)) {
        size += chunk.length;
        // Past the descriptor's size is already wrong: stop reading, whatever the registry would still send.
        if (size > d.size) throw mismatch(this.#ref, `blob ${d.digest}`, `${d.size} bytes`, 'more');
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      const actual = `sha256:${hash.digest('hex')}`;
      if (size !== d.size || actual !== d.digest) throw mismatch(this.#ref, `blob ${d.digest}`, d.digest, actual);
    } catch (err) {
      out.destroy();
      await rm(file, { force: true });
      throw err;
    }
  }
}

async function* streamOf(response: Response): AsyncGenerator<Buffer> {
  if (response.body === null) return;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield Buffer.from(value);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The body, refused (rejects) past `cap` bytes without reading further. */
async function readCapped(response: Response, cap: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of streamOf(response)) {
    size += chunk.length;
    if (size > cap) throw new RangeError(`more than ${cap} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}
