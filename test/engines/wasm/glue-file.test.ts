/**
 * The per-process glue folders (src/engines/wasm/glue-file.ts): they live
 * under the Airlock cache, and the folder of a process that was killed
 * (no exit handler ran) is removed by the next process that writes glue,
 * while folders of running processes and of other machines are kept; one
 * start looks at a bounded number of entries.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GLUE_OWNER, SWEEP_LIMIT, sweepGlueFolders } from '../../../src/engines/wasm/glue-file.ts';

const MODULE = new URL('../../../src/engines/wasm/glue-file.ts', import.meta.url).href;
const cache = mkdtempSync(join(tmpdir(), 'airlock-glue-cache-'));
test.after.always(() => rmSync(cache, { recursive: true, force: true }));

/** Runs a process that writes one glue under `cache`, prints its folder, waits for its sweep, then ends by `end`. */
async function writer(end: 'exit' | 'SIGKILL'): Promise<{ folder: string; pid: number }> {
  const script = `
    const glue = await import(${JSON.stringify(MODULE)});
    const files = await glue.glueFiles('export function instantiate() {}', 'glue.js');
    await glue.swept; // a live binding, set by the first write
    process.stdout.write(JSON.stringify({ url: files.url, pid: process.pid }));
    ${end === 'SIGKILL' ? "process.kill(process.pid, 'SIGKILL');" : ''}
  `;
  const run = promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, AIRLOCK_CACHE_DIR: cache },
    timeout: 60_000,
  });
  let stdout: string;
  try {
    stdout = (await run).stdout;
  } catch (e) {
    if (end !== 'SIGKILL') throw e;
    stdout = (e as { stdout: string }).stdout;
  }
  const { url, pid } = JSON.parse(stdout) as { url: string; pid: number };
  return { folder: dirname(fileURLToPath(url)), pid };
}

test.serial('the folder of a killed process is removed by the next process; running processes and other machines keep theirs', async (t) => {
  const killed = await writer('SIGKILL');
  t.is(dirname(killed.folder), join(cache, 'glue'), 'under the Airlock cache');
  t.true(existsSync(killed.folder), 'a killed process leaves its folder behind');
  // This test's process is running; a folder named by another machine means nothing here, even with a dead pid.
  const live = join(cache, 'glue', `${GLUE_OWNER}-${process.pid}-live`);
  const foreign = join(cache, 'glue', `ffffffffffff-${killed.pid}-other`);
  mkdirSync(live);
  mkdirSync(foreign);

  const next = await writer('exit');
  t.false(existsSync(killed.folder), 'removed by the next process');
  t.false(existsSync(next.folder), 'a process that exits removes its own');
  t.true(existsSync(live));
  t.true(existsSync(foreign));
});

test.serial('one sweep looks at a bounded number of entries; later sweeps remove the rest', async (t) => {
  const root = join(cache, 'many');
  // Dead pids: above any pid_max (2^22).
  const extra = 20;
  for (let i = 0; i < SWEEP_LIMIT + extra; i++) mkdirSync(join(root, `${GLUE_OWNER}-${(1 << 23) + i}-x`), { recursive: true });
  await sweepGlueFolders(root);
  t.true(readdirSync(root).length >= extra, 'at most SWEEP_LIMIT removed by one sweep');
  t.true(readdirSync(root).length < SWEEP_LIMIT + extra, 'dead folders were removed');
  await sweepGlueFolders(root);
  t.deepEqual(readdirSync(root), []);
});
