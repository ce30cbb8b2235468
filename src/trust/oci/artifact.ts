/**
 * Plugins as OCI artifacts. A wasm plugin follows the CNCF wasm OCI artifact
 * layout (tag-runtime.cncf.io/wgs/wasm/deliverables/wasm-oci-artifact, as
 * wasm-pkg-tools and Wassette read it): config `application/vnd.wasm.config.v0+json`
 * (architecture wasm, os wasip2, the layers' digests, the component's imports
 * and exports), the component as an `application/wasm` layer, plus (as
 * Wassette's extra layers) the source bundle Airlock rebuilds and verifies
 * from. A container plugin is its source bundle with an Airlock config.
 *
 * Pulling trusts nothing the registry says: the manifest and every blob are
 * bounded and verified against their digests while they stream, the bundle is
 * unpacked by the bounded extractor into a staging folder, and the plugin is
 * checked against the lock file and the trust policy (src/trust/check.ts)
 * before it is moved into place; nothing is built.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { buildPlugin } from '../../build/index.ts';
import { AirlockError } from '../../errors.ts';
import type { Policy } from '../../grants/index.ts';
import { loadPluginOffThread, type LoadedManifest } from '../../manifest/index.ts';
import { extractTar, MAX_COMPONENT_BYTES, readPluginFile, TREE_LIMITS } from '../../plugin-files/index.ts';
import { checkTrust } from '../check.ts';
import { pluginDigest } from '../digest.ts';
import type { LockFile } from '../lock.ts';
import { MANIFEST_ACCEPT, Registry, type Descriptor } from './client.ts';
import { componentWorld } from './component-world.ts';
import { formatReference, parseReference } from './reference.ts';
import { sourceBundle } from './bundle.ts';

export const WASM_CONFIG = 'application/vnd.wasm.config.v0+json';
export const WASM_LAYER = 'application/wasm';
export const AIRLOCK_CONFIG = 'application/vnd.airlock.plugin.config.v1+json';
export const SOURCE_LAYER = 'application/vnd.airlock.plugin.source.v1.tar';
/** The manifest annotation naming the plugin digest the bundle should unpack to. */
export const DIGEST_ANNOTATION = 'dev.airlock.plugin.digest';
/** A bundle as large as a plugin folder may be, plus tar headers. */
const MAX_BUNDLE_BYTES = TREE_LIMITS.maxBytes + TREE_LIMITS.maxEntries * 1024 + 1024;
const MAX_CONFIG_BYTES = 1024 * 1024;

const descriptorSchema = z.object({
  mediaType: z.string().max(256),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  size: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  annotations: z.record(z.string().max(1024), z.string().max(4096)).optional(),
});
const manifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.literal(MANIFEST_ACCEPT).optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema).min(1).max(16),
  annotations: z.record(z.string().max(1024), z.string().max(4096)).optional(),
});

export interface PushResult {
  reference: string;
  /** The manifest's digest: pull `<repository>@<digest>` to get exactly these bytes. */
  manifest: string;
  digest: string;
  kind: 'wasm' | 'source';
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** Pushes a plugin folder (wasm: built first, as `airlock build` would) to `ref`. */
export async function pushPlugin(plugin: LoadedManifest, refText: string): Promise<PushResult> {
  const ref = parseReference(refText);
  if (ref.tag === undefined || ref.digest !== undefined)
    throw new AirlockError('invalid-input', `push to a tag (registry/repository:tag), not ${JSON.stringify(refText)}`);
  const registry = new Registry(ref);
  const m = plugin.manifest;
  const digest = await pluginDigest(plugin.dir);
  const bundle = await sourceBundle(plugin.dir);
  const source = await registry.pushBlob(bundle, SOURCE_LAYER, { 'org.opencontainers.image.title': `${m.name}.tar`, [DIGEST_ANNOTATION]: digest });
  const layers: Descriptor[] = [];
  let config: Descriptor;
  const wasm = plugin.runtime === 'wasm';
  if (wasm) {
    const built = await buildPlugin(plugin.dir, { entry: m.entry });
    const component = await readPluginFile(dirname(built.componentPath), basename(built.componentPath), {
      code: 'build-failed',
      maxBytes: MAX_COMPONENT_BYTES,
    });
    layers.push(await registry.pushBlob(component, WASM_LAYER, { 'org.opencontainers.image.title': 'plugin.wasm' }), source);
    const world = componentWorld(component);
    // `created` is fixed: the same plugin pushes the same manifest (its digest is then reproducible).
    const wasmConfig = {
      created: '1970-01-01T00:00:00Z',
      author: null,
      architecture: 'wasm',
      os: 'wasip2',
      layerDigests: layers.map((l) => l.digest),
      component: world === undefined ? null : { ...world, target: null },
    };
    config = await registry.pushBlob(json(wasmConfig), WASM_CONFIG);
  } else {
    layers.push(source);
    config = await registry.pushBlob(json({ name: m.name, version: m.version, runtime: plugin.runtime, digest }), AIRLOCK_CONFIG);
  }
  const manifest = json({
    schemaVersion: 2,
    mediaType: MANIFEST_ACCEPT,
    config,
    layers,
    annotations: { 'org.opencontainers.image.title': m.name, 'org.opencontainers.image.version': m.version, [DIGEST_ANNOTATION]: digest },
  });
  const manifestDigest = await registry.putManifest(ref.tag, manifest, MANIFEST_ACCEPT);
  return { reference: formatReference(ref), manifest: manifestDigest, digest, kind: wasm ? 'wasm' : 'source' };
}

export interface PullOptions {
  /** Where the plugin folder goes (must not exist); default: `<cwd>/<plugin name>`. */
  to?: string;
  cwd: string;
  /** Checked before the folder is moved into place (as a host would check at load). */
  policy: Policy;
  lock?: LockFile;
}

export interface PullResult {
  dir: string;
  name: string;
  version: string;
  digest: string;
  manifest: string;
  signer?: string;
}

function malformed(ref: string, why: string): AirlockError {
  return new AirlockError('registry-error', `${ref} is not an Airlock plugin artifact: ${why}`);
}

/** The registry's text as a JSON object; undefined when it is not JSON or not an object (the registry chose it). */
function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Pulls `refText` into a new folder, verified as described above; the folder exists only if every check passed. */
export async function pullPlugin(refText: string, options: PullOptions): Promise<PullResult> {
  const ref = parseReference(refText);
  const shown = formatReference(ref);
  const registry = new Registry(ref);
  const { bytes, digest: manifestDigest } = await registry.getManifest(ref.digest ?? ref.tag ?? 'latest');
  let parsed: z.infer<typeof manifestSchema>;
  try {
    parsed = manifestSchema.parse(JSON.parse(bytes.toString('utf8')));
  } catch (err) {
    throw malformed(shown, `its manifest is not an OCI image manifest (${err instanceof z.ZodError ? err.issues[0]?.message : (err as Error).message})`);
  }
  const source = parsed.layers.find((l) => l.mediaType === SOURCE_LAYER);
  if (source === undefined) throw malformed(shown, `it has no ${SOURCE_LAYER} layer (an artifact pushed by \`airlock push\` has one)`);
  if (parsed.config.mediaType === WASM_CONFIG) {
    // The config lists the layers' digests (CNCF layout): one that disagrees with the manifest is not this artifact's.
    const config = jsonObject((await registry.getBlob(parsed.config, MAX_CONFIG_BYTES)).toString('utf8'));
    if (config === undefined) throw malformed(shown, 'its config is not a JSON object');
    const listed = Array.isArray(config.layerDigests) ? config.layerDigests : [];
    if (listed.length !== parsed.layers.length || parsed.layers.some((l, i) => listed[i] !== l.digest))
      throw malformed(shown, "its config's layerDigests do not match its layers");
  } else if (parsed.config.mediaType !== AIRLOCK_CONFIG) {
    throw malformed(shown, `its config is ${JSON.stringify(parsed.config.mediaType)}, neither ${WASM_CONFIG} nor ${AIRLOCK_CONFIG}`);
  }

  const parent = options.to === undefined ? options.cwd : dirname(options.to);
  await mkdir(parent, { recursive: true });
  const staging = join(parent, `.airlock-pull-${randomUUID()}`);
  await mkdir(staging, { mode: 0o700 });
  try {
    const archive = join(staging, 'bundle.tar');
    await registry.downloadBlob(source, archive, MAX_BUNDLE_BYTES);
    const tree = join(staging, 'plugin');
    await extractTar(archive, tree, TREE_LIMITS);
    const plugin = await loadPluginOffThread(tree);
    const digest = await pluginDigest(tree);
    const claimed = parsed.annotations?.[DIGEST_ANNOTATION];
    if (claimed !== undefined && claimed !== digest) {
      throw new AirlockError('digest-mismatch', `${shown}: the bundle unpacks to digest ${digest}, the artifact claims ${claimed}; nothing from it is used`);
    }
    // Lock pins and signatures, as a host would check them, before the plugin is placed where a host could load it.
    const trust = await checkTrust(plugin, options.policy, options.lock);
    const dir = options.to ?? join(options.cwd, plugin.manifest.name);
    if (
      await stat(dir).then(
        () => true,
        () => false,
      )
    )
      throw new AirlockError('conflict', `${dir} exists; pull into a new folder (--to)`);
    await rename(tree, dir);
    return {
      dir,
      name: plugin.manifest.name,
      version: plugin.manifest.version,
      digest,
      manifest: manifestDigest,
      ...(trust?.signer === undefined ? {} : { signer: trust.signer }),
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
