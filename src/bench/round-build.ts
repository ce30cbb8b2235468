/**
 * A round's builds of a plugin from source with empty caches, what a first
 * run with nothing cached pays on top of loading: the component
 * (componentize-js/-py, clang) and, for the Docker targets, a new image.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { buildPlugin } from '../build/index.ts';
import { componentEntry } from '../build/fixtures.ts';
import { DockerEngine } from '../engines/docker/index.ts';
import { freshCacheRoot } from './cache.ts';
import { throwIfAborted } from './measure.ts';
import type { BenchPlugin } from './plugins.ts';
import { grantsOf, type PluginSetup } from './target.ts';

/** component: source to component (componentize-js/-py, clang); image: the plugin's Docker image on a cached base. */
export type BuildStage = 'component' | 'image';

/** This round's build of a plugin from source with empty caches, and a copy Docker builds as a new image. */
export interface RoundBuild {
  stages: Partial<Record<BuildStage, number>>;
  /** A copy of the plugin with a nonce file: a new content hash, so a new image (Docker's "without cache"). */
  freshDocker?: { setup: PluginSetup; dir: string; tag: string };
}

export async function buildFromScratch(plugin: BenchPlugin, base: PluginSetup, wantImage: boolean, signal: AbortSignal): Promise<RoundBuild> {
  const stages: RoundBuild['stages'] = {};
  const component = await timeComponentBuild(plugin);
  if (component !== undefined) stages.component = component;
  throwIfAborted(signal);
  if (!wantImage) return { stages };
  const image = await buildFreshImage(plugin, base, signal);
  stages.image = image.ms;
  return { stages, freshDocker: image.fresh };
}

/** Milliseconds to build the plugin's component into an empty cache; undefined for a plugin without one. */
async function timeComponentBuild(plugin: BenchPlugin): Promise<number | undefined> {
  const entry = componentEntry(plugin.dir);
  if (entry === undefined) return undefined;
  const cache = freshCacheRoot();
  try {
    const t = performance.now();
    await buildPlugin(plugin.dir, { entry, cacheRoot: cache.root });
    return performance.now() - t;
  } finally {
    cache.remove();
  }
}

/** A copy of the plugin with a nonce file, built by the Docker engine as a new image (removed by removeFresh). */
async function buildFreshImage(
  plugin: BenchPlugin,
  base: PluginSetup,
  signal: AbortSignal,
): Promise<{ ms: number; fresh: NonNullable<RoundBuild['freshDocker']> }> {
  const dir = mkdtempSync(join(tmpdir(), `airlock-bench-${plugin.name}-`));
  cpSync(plugin.dir, dir, { recursive: true });
  writeFileSync(join(dir, 'bench-nonce.txt'), `${process.pid} ${Date.now()} ${Math.random()}\n`);
  const grants = grantsOf(dir);
  const engine = new DockerEngine({ cleanupOrphans: false });
  try {
    const t = performance.now();
    const image = await engine.build(grants, { signal });
    return { ms: performance.now() - t, fresh: { setup: { ...base, grants }, dir, tag: image.tag } };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    await engine.close();
  }
}

/** Removes the round's copy of the plugin and its image. */
export async function removeFresh(b: RoundBuild): Promise<void> {
  if (b.freshDocker === undefined) return;
  rmSync(b.freshDocker.dir, { recursive: true, force: true });
  await new Docker()
    .getImage(b.freshDocker.tag)
    .remove({ force: true })
    .catch(() => undefined);
}
