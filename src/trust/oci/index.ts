/** Plugins in OCI registries: references, the distribution API client, the artifact layout, push and pull. */
export {
  AIRLOCK_CONFIG,
  DIGEST_ANNOTATION,
  pullPlugin,
  pushPlugin,
  SOURCE_LAYER,
  WASM_CONFIG,
  WASM_LAYER,
  type PullOptions,
  type PullResult,
  type PushResult,
} from './artifact.ts';
export { MAX_MANIFEST_BYTES, Registry, sha256Digest, type Descriptor } from './client.ts';
export { componentWorld, type ComponentWorld } from './component-world.ts';
export { formatReference, parseReference, type Reference } from './reference.ts';
export { sourceBundle } from './bundle.ts';
