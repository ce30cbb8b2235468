/**
 * A module-load trace, for tests that check what a process or its worker
 * threads load (not how long it takes): preload it with
 * `node --import <this file's URL>?out=<file>`; worker threads inherit the
 * flag, so every thread appends `<threadId> <module URL>` for each module it
 * loads (node: builtins included) to <file>.
 */
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { threadId } from 'node:worker_threads';

const out = new URL(import.meta.url).searchParams.get('out');
if (out !== null) {
  registerHooks({
    load(url, context, nextLoad) {
      appendFileSync(out, `${threadId} ${url.startsWith('data:') ? 'data:' : url}\n`);
      return nextLoad(url, context);
    },
  });
}
