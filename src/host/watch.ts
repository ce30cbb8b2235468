/**
 * Reload on change: watches the folders of the loaded plugins and calls
 * `reloadAll()` after their files change (for `airlock serve --watch`, and
 * for hosts that want edits picked up without a restart). A reload whose
 * folder did not really change is a no-op (content hash), so spurious
 * events cost a hash, not a new pool.
 */
import { watch, type FSWatcher } from 'node:fs';
import { AirlockError, isAirlockError } from '../errors.ts';
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
    const watcher = watch(dir, { recursive: true }, schedule);
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
