/**
 * Digests that pin what was reviewed: a plugin's (its folder, through the one
 * content hash the build caches use, src/content-hash.ts), each tool's (its
 * description, schemas and annotations: what the model reads), and a built
 * artefact's (component bytes). Written `sha256:<hex>`, as OCI digests are.
 */
import { createHash } from 'node:crypto';
import { hashTree } from '../content-hash.ts';
import type { Tool } from '../manifest/index.ts';
import { readPluginFileChunks, MAX_COMPONENT_BYTES } from '../plugin-files/index.ts';
import { dirname, basename } from 'node:path';

/** Where `airlock sign` puts a plugin's signature: in its folder, outside its digest. */
export const SIGNATURE_FILE = 'airlock.minisig';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

/**
 * What the digest leaves out: caches and environments no engine runs from the folder (`__pycache__`, `.venv`)
 * and the signature, which signs the digest and so cannot be part of it. `node_modules` stays in: a JS
 * component's dependencies are bundled from it into the component (src/build), so they are reviewed code.
 */
export function outsideDigest(rel: string): boolean {
  return rel === SIGNATURE_FILE || rel === '__pycache__' || rel === '.venv';
}

/** The plugin folder's digest: manifest and every file (paths, executable bits, bytes), walked with the bounded reader. */
export async function pluginDigest(dir: string): Promise<string> {
  return `sha256:${await hashTree(dir, { ignore: outsideDigest })}`;
}

/** JSON with object keys sorted, so equal values hash equally whatever order the YAML had. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A tool's digest: its description, input and output schemas and annotations (a changed one is a "rug pull"). */
export function toolDigest(tool: Tool): string {
  const pinned = { description: tool.description, input: tool.input, output: tool.output ?? null, annotations: tool.annotations ?? null };
  return `sha256:${createHash('sha256').update(canonicalJson(pinned)).digest('hex')}`;
}

/** A built component's digest (the bytes an engine runs), streamed through the bounded reader. */
export async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of readPluginFileChunks(dirname(path), basename(path), { code: 'build-failed', maxBytes: MAX_COMPONENT_BYTES })) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}
