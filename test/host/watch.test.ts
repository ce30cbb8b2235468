import { renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import test from 'ava';
import { PluginHost } from '../../src/host/index.ts';
import { watchPlugins, type WatchEvent } from '../../src/host/watch.ts';
import { cPlugin } from './helpers.ts';

const answer = (text: string): string => `#include "airlock_tools.h"
int tool(const char *name, size_t name_len, char *input, size_t input_len, struct airlock_out *out) {
  (void)name; (void)name_len; (void)input; (void)input_len;
  out->ok = airlock_lit("\\"${text}\\"");
  return 0;
}
`;

/**
 * Replaces a file in one step, as editors that save atomically do: written beside the watched folder, then renamed in.
 * A plain write truncates first, and on a busy machine the settle time can pass between the truncation and the
 * bytes, so the reload would see an empty file.
 */
const replaceFile = (path: string, text: string): void => {
  const next = join(dirname(dirname(path)), `${basename(dirname(path))}.${basename(path)}.next`);
  writeFileSync(next, text);
  renameSync(next, path);
};

test('watchPlugins reloads a plugin after its files change; a broken edit keeps the old one serving', async (t) => {
  const dir = cPlugin({ name: 'watched', tools: [{ name: 'say', description: 'Says something', input: { type: 'object' } }] }, answer('before'));
  const host = new PluginHost();
  t.teardown(() => host.close());
  await host.load(dir);
  t.is((await host.call('watched_say', {})).value, 'before');

  const events: WatchEvent[] = [];
  let notify: (() => void) | undefined;
  const next = (): Promise<void> => new Promise((resolve) => (notify = resolve));
  const stop = new AbortController();
  t.teardown(() => stop.abort());
  watchPlugins(host, {
    signal: stop.signal,
    settleMs: 20,
    onReload: (event) => {
      events.push(event);
      // Editors and the build may fire several events: wait for the one that matters.
      if ('error' in event || event.changed.length > 0) notify?.();
    },
  });

  let reloaded = next();
  replaceFile(join(dir, 'plugin.c'), answer('after'));
  await reloaded;
  t.deepEqual(events.at(-1), { changed: ['watched'] });
  t.is((await host.call('watched_say', {})).value, 'after');

  reloaded = next();
  replaceFile(join(dir, 'plugin.yaml'), 'apiVersion: airlock/v1\nname: watched\n');
  await reloaded;
  const last = events.at(-1);
  t.true(last !== undefined && 'error' in last && last.error.code === 'invalid-manifest');
  t.is((await host.call('watched_say', {})).value, 'after');
});
