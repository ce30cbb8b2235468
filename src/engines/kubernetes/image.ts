/**
 * A plugin's image for the cluster: built by the Docker engine's own build
 * (content-hash tag, registry-only build network, no plugin code run), pushed
 * to the registry the host policy names, and referenced in Pods by the digest
 * the registry answered, so a Pod runs exactly what was built.
 */
import type Docker from 'dockerode';
import { AirlockError } from '../../errors.ts';
import type { Grants } from '../../grants/types.ts';
import { dockerClient } from '../docker/client.ts';
import { resolveDaemon } from '../docker/daemon.ts';
import type { DockerEngine, DockerLoadOptions } from '../docker/index.ts';

export interface PushedImage {
  /** `registry/airlock-plugin/name@sha256:…`. */
  reference: string;
  /** The local tag it was built as. */
  tag: string;
  built: boolean;
}

interface PushMessage {
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Digest?: string };
}

/** Builds (or finds) the plugin's image with the Docker engine `builder` and pushes it to `registry`. */
export async function pushedImage(builder: DockerEngine, grants: Grants, registry: string, options: DockerLoadOptions): Promise<PushedImage> {
  const image = await builder.build(grants, options);
  const reference = await pushLocal(grants, image.tag, registry, `the image of ${grants.plugin.name}`, options.signal);
  return { reference, tag: image.tag, built: image.built };
}

/**
 * Pushes the image `tag` of the daemon the plugin's builds run on (the host policy's `docker`, else the local
 * one) to `registry` under the same path, and returns its reference by digest. `what` names it in errors.
 */
export async function pushLocal(grants: Grants, tag: string, registry: string, what: string, signal: AbortSignal | undefined): Promise<string> {
  const docker: Docker = dockerClient(resolveDaemon(grants.docker));
  const colon = tag.lastIndexOf(':');
  const repo = `${registry}/${tag.slice(0, colon)}`;
  const version = tag.slice(colon + 1);
  await docker.getImage(tag).tag({ repo, tag: version });
  let digest: string | undefined;
  // The registry tag is only the push's name: removed after it (the image keeps its own tag), so pushes to
  // registries on changing ports (tests) do not pile up tags on the daemon.
  const untag = (): Promise<unknown> =>
    docker
      .getImage(`${repo}:${version}`)
      .remove({ noprune: true })
      .catch(() => undefined);
  try {
    const stream = (await docker
      .getImage(`${repo}:${version}`)
      // Anonymous (the daemon wants the header even so); a registry that needs credentials is not supported yet.
      .push({ authconfig: { serveraddress: registry }, ...(signal === undefined ? {} : { abortSignal: signal }) })) as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (m: PushMessage) => {
          if (m.aux?.Digest !== undefined) digest = m.aux.Digest;
          if (m.error !== undefined) reject(new Error(m.errorDetail?.message ?? m.error));
        },
      );
    });
  } catch (e) {
    await untag();
    if (signal?.aborted === true) throw new AirlockError('aborted', `pushing ${what} was aborted`, { cause: e });
    throw new AirlockError('engine-unavailable', `${what} cannot be pushed to ${registry}: ${(e as Error).message}`, {
      cause: e,
      hint: 'the host policy kubernetes.registry must be a registry the Docker daemon can push to (a plain-HTTP one must be loopback or listed in the daemon insecure-registries)',
    });
  }
  await untag();
  if (digest === undefined || !/^sha256:[0-9a-f]{64}$/.test(digest))
    throw new AirlockError('engine-unavailable', `pushing ${what} to ${registry}: the registry answered no digest`);
  return `${repo}@${digest}`;
}
