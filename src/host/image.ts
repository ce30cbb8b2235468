/**
 * A node or python plugin's Docker image, built (or found in Docker's cache
 * by content hash) ahead of its first call: what `airlock build` does for
 * such a plugin. The same build a load does (hardening, build network), through the engine.
 */
import type { BuildEvent, DockerLoadOptions } from '../engines/docker/index.ts';
import { probeDocker } from '../engines/probe.ts';
import { AirlockError } from '../errors.ts';
import type { Grants } from '../grants/index.ts';

export interface ImageBuildOptions {
  /** The manifest's `build:` section, as the caller read it. */
  build?: DockerLoadOptions['build'];
  onProgress?: (event: BuildEvent) => void;
  signal?: AbortSignal;
}

export interface ImageBuild {
  tag: string;
  /** True when the image was already there. */
  cached: boolean;
}

export async function buildPluginImage(grants: Grants, options: ImageBuildOptions = {}): Promise<ImageBuild> {
  const { name, runtime } = grants.plugin;
  const probe = await probeDocker();
  if (!probe.available) {
    throw new AirlockError(
      'engine-unavailable',
      `${name} is a ${runtime} plugin and needs Docker to build: ${probe.reason ?? 'unavailable'}; ${probe.installHint ?? ''}`,
    );
  }
  // Loaded on use: a wasm-only host never loads the Docker client.
  const { DockerEngine } = await import('../engines/docker/index.ts');
  // No orphan clean-up: a build starts no container, and other hosts' containers are theirs.
  const docker = new DockerEngine({ cleanupOrphans: false });
  try {
    const image = await docker.build(grants, options);
    return { tag: image.tag, cached: !image.built };
  } finally {
    await docker.close();
  }
}
