import { probeDocker } from '../../engines/probe.ts';
import { parseDuration } from '../../manifest/index.ts';
import { dockerImageStore, prune } from '../../prune/index.ts';
import { parseFlags } from '../flags.ts';
import { UsageError, type CliIO, type Command } from '../io.ts';

/** `7d`, `12h`, `30m`, …: a manifest duration, or days. */
function olderThan(text: string): number {
  const days = /^(\d+(?:\.\d+)?)\s*d$/.exec(text.trim());
  if (days !== null) return Number(days[1]) * 86_400_000;
  try {
    return parseDuration(text);
  } catch {
    throw new UsageError(`--older-than takes a duration such as 7d, 12h or 30m (got ${JSON.stringify(text)})`);
  }
}

const MiB = 1024 * 1024;
const human = (bytes: number): string => (bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`);

export const pruneCommand: Command = {
  name: 'prune',
  summary: 'Remove old builds and images that no plugin uses now, and say what that freed',
  help: `Usage: airlock prune [--dry-run] [--older-than <age>] [--json]

Every edit of a plugin leaves its previous build behind (a component in the
cache with its transpiled and compiled forms, or a Docker image). prune
removes them, keeping for each plugin folder the build its current source
uses (recorded by its last build or load) and, for each Docker plugin, its
newest image. Remembered manifest checks go unless a plugin folder's
plugin.yaml is that text now; V8's compile caches go for other Node versions
and for glue no kept build uses. Only Airlock's own cache folder (${'$'}AIRLOCK_CACHE_DIR, else
~/.cache/airlock) and images labelled airlock.managed are touched.

Options:
  --dry-run           list what would be removed and its size; remove nothing
  --older-than <age>  only what is older than this: 7d, 12h, 30m
  --json              print the result as JSON
  -h, --help          show this help`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseFlags(argv, ['json'], { 'dry-run': { type: 'boolean' }, 'older-than': { type: 'string' } });
    if (positionals.length > 0) throw new UsageError('prune takes no arguments');
    const docker = await probeDocker();
    const result = await prune({
      dryRun: values['dry-run'] === true,
      ...(values['older-than'] === undefined ? {} : { olderThanMs: olderThan(values['older-than']) }),
      ...(docker.available
        ? { images: dockerImageStore(new (await import('dockerode')).default()) }
        : { images: null, imagesSkipped: docker.reason ?? 'Docker is unavailable' }),
    });
    if (values.json === true) {
      io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      const verb = result.dryRun ? 'would remove' : 'removed';
      for (const r of result.removed)
        io.stdout(`${r.error === undefined ? verb : 'could not remove'} ${r.kind} ${r.what} (${human(r.bytes)}): ${r.error ?? r.reason}\n`);
      if (result.imagesSkipped !== undefined) io.stdout(`images not checked: ${result.imagesSkipped}\n`);
      io.stdout(
        `${result.dryRun ? 'would free' : 'freed'} ${human(result.bytes)} (${result.removed.filter((r) => r.error === undefined).length} items); kept ${result.kept.build} builds in use and ${result.kept.images} images\n`,
      );
    }
    return result.removed.some((r) => r.error !== undefined) ? 1 : 0;
  },
};
