/**
 * What watching a plugin folder costs the host (src/host/watch.ts): only what a build or content hash reads is
 * watched. Node's recursive watch on Linux lists every folder below the root on the event loop (readdirSync),
 * keeps every path in a set and holds an inotify watch per folder; a plugin folder whose ignored part (its
 * node_modules, a folder its .airlockignore names) holds millions of names would cost all of that, though no
 * load ever reads them. Counted through the inotify watches this process holds (/proc/self/fdinfo).
 */
import test from 'ava';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { watchPlugins } from '../../src/host/watch.ts';
import { tempDir } from '../helpers/plugin.ts';

/** The inotify watches this process holds, over all its inotify instances. */
function inotifyWatches(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let link: string;
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (link !== 'anon_inode:inotify') continue;
    n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('inotify wd:')).length;
  }
  return n;
}

test('folders the plugin ignores (node_modules, its .airlockignore) are not watched, nor listed', (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'plugin.yaml'), 'name: x\n');
  writeFileSync(join(dir, '.airlockignore'), 'data/\n');
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'main.py'), '');
  for (let i = 0; i < 300; i++) mkdirSync(join(dir, 'node_modules', `pkg${i}`, 'lib'), { recursive: true });
  for (let i = 0; i < 300; i++) mkdirSync(join(dir, 'data', `d${i}`), { recursive: true });
  const stop = new AbortController();
  t.teardown(() => stop.abort());
  const before = inotifyWatches();
  watchPlugins({ plugins: () => [{ dir }] as never, reloadAll: async () => [] }, { signal: stop.signal, onReload: () => undefined });
  const held = inotifyWatches() - before;
  // The folder and src/; before the fix each of the 1,201 folders below had a watch of its own.
  t.true(held <= 4, `${held} inotify watches for a plugin folder of two folders that are not ignored`);
  t.true(held >= 2, `${held}: the folder itself and src/ are watched`);
});

test('with the ignored folders left out, a change in a folder that is not ignored still reloads', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'plugin.yaml'), 'name: x\n');
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'node_modules', 'a'), { recursive: true });
  const stop = new AbortController();
  t.teardown(() => stop.abort());
  let reloads = 0;
  let reloaded!: () => void;
  const next = new Promise<void>((r) => (reloaded = r));
  watchPlugins(
    {
      plugins: () => [{ dir }] as never,
      reloadAll: async () => {
        reloads++;
        reloaded();
        return [];
      },
    },
    { signal: stop.signal, settleMs: 20, onReload: () => undefined },
  );
  writeFileSync(join(dir, 'node_modules', 'a', 'index.js'), '');
  writeFileSync(join(dir, 'src', 'main.py'), 'print(1)\n');
  await next;
  t.true(reloads >= 1);
});
