/**
 * Reload on change: watches the folders of the loaded plugins and calls
 * `reloadAll()` after their files change (for `airlock serve --watch`, and
 * for hosts that want edits picked up without a restart). A reload whose
 * folder did not really change is a no-op (content hash), so spurious
 * events cost a hash, not a new pool. What the plugin ignores (node_modules,
 * its .airlockignore: never read by a load) is not watched: Node's recursive
 * watch lists every folder it watches on the event loop and holds a watch per
 * folder, so an ignored folder of millions of names would cost the host that.
 * The ignore rules are those of when watching started.
 */
import { lstatSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { AirlockError, isAirlockError } from '../errors.ts';
import { DEFAULT_IGNORES, ignoreMatcher, pluginIgnoreSync, type Ignore } from '../plugin-files/index.ts';
import type { PluginSummary } from './types.ts';

export interface Reloadable {
  plugins(): PluginSummary[];
  reloadAll(): Promise<string[]>;
}

export type WatchEvent = { changed: string[] } | { error: AirlockError };

export interface WatchOptions {
  /** Stops watching. */
  signal: AbortSignal;
  /** After each reload: the plugins that changed (possibly none), or why the reload failed (the old plugin keeps serving). */
  onReload(event: WatchEvent): void;
  /** Quiet time after the last file event before reloading (editors write in bursts). Default 100 ms. */
  settleMs?: number;
}

export function watchPlugins(target: Reloadable, options: WatchOptions): void {
  const settleMs = options.settleMs ?? 100;
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;

  const reload = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        try {
          options.onReload({ changed: await target.reloadAll() });
        } catch (err) {
          options.onReload({
            error: isAirlockError(err)
              ? err
              : new AirlockError('internal', `reload failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err }),
          });
        }
      } while (again && !options.signal.aborted);
    } finally {
      running = false;
    }
  };

  const schedule = (): void => {
    if (options.signal.aborted) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), settleMs);
  };

  for (const dir of new Set(target.plugins().map((p) => p.dir))) {
    const watcher = watch(dir, { recursive: true, ignore: watchIgnore(dir) }, schedule);
    // A folder that disappears stops its watcher; the next reload reports the missing manifest.
    watcher.on('error', schedule);
    watchers.push(watcher);
  }
  options.signal.addEventListener(
    'abort',
    () => {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
    { once: true },
  );
}

/** The plugin's ignore rules over the paths the watcher meets (relative to `dir`; a folder-only rule costs an lstat). */
function watchIgnore(dir: string): (rel: string) => boolean {
  let ignore: Ignore;
  try {
    ignore = pluginIgnoreSync(dir).ignore;
  } catch {
    // An ignore file a load refuses: the reload reports it; meanwhile the defaults keep node_modules and .git out.
    ignore = ignoreMatcher(DEFAULT_IGNORES);
  }
  return (rel) => ignore(rel, false) || (ignore(rel, true) && lstatSync(join(dir, rel), { throwIfNoEntry: false })?.isDirectory() === true);
}
