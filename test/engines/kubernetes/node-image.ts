/**
 * A minimal Node image for the cluster tests, pushed to a registry on loopback without Docker: one layer
 * with this process's `node` binary and the shared libraries it links (ldd), an OCI config and manifest,
 * sent through the registry's HTTP API. Enough to run the egress proxy (its code comes from a ConfigMap)
 * and a client script; nothing of the plugin base images is needed.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readFile, realpath } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tar, type TarEntry } from '../../../src/plugin-files/index.ts';

const run = promisify(execFile);

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function layer(): Promise<Buffer> {
  const { stdout } = await run('ldd', [process.execPath]);
  // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` and `/lib64/ld-linux-x86-64.so.2 (0x...)`.
  const libs = [...stdout.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1] as string);
  const files = new Map<string, { from: string; executable: boolean }>([['usr/local/bin/node', { from: process.execPath, executable: true }]]);
  for (const lib of libs) files.set(lib.slice(1), { from: lib, executable: true });
  const entries: TarEntry[] = [];
  const dirs = new Set<string>();
  for (const [path, f] of files) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = `${parts.slice(0, i).join('/')}/`;
      if (!dirs.has(dir)) entries.push({ path: dir, type: 'dir' });
      dirs.add(dir);
    }
    entries.push({ path, type: 'file', data: await readFile(await realpath(f.from)), executable: f.executable });
  }
  if (!dirs.has('tmp/')) entries.push({ path: 'tmp/', type: 'dir' });
  return tar(entries);
}

async function pushBlob(registry: string, repo: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const start = await fetch(`http://${registry}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`registry: starting an upload answered ${start.status}`);
  const location = new URL(start.headers.get('location') ?? '', `http://${registry}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`registry: uploading ${digest} answered ${put.status}: ${await put.text()}`);
  return digest;
}

/** Pushes the image to `registry` (host:port, plain HTTP) and returns its reference. */
export async function pushNodeImage(registry: string, repo = 'airlock-test/node', tag = 'v1'): Promise<string> {
  const tarball = await layer();
  const layerDigest = await pushBlob(registry, repo, tarball);
  const config = Buffer.from(
    JSON.stringify({
      architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], Cmd: ['node'] },
      rootfs: { type: 'layers', diff_ids: [sha256(tarball)] },
    }),
  );
  const configDigest = await pushBlob(registry, repo, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: tarball.length }],
  };
  const put = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    body: JSON.stringify(manifest),
    headers: { 'content-type': manifest.mediaType },
  });
  if (put.status !== 201) throw new Error(`registry: the manifest answered ${put.status}: ${await put.text()}`);
  return `${registry}/${repo}:${tag}`;
}
