/** The bounded reader (src/plugin-files/read.ts): every hostile file type refused with its code, nothing blocks. */
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockError } from '../../src/errors.ts';
import { validatePlugin, validatePluginOffThread } from '../../src/manifest/index.ts';
import { checkPluginFileSync, readPluginFile, readPluginFileSync, type FileErrorCode } from '../../src/plugin-files/index.ts';
import { device, fifo, linkTo, loop, socket } from '../helpers/hostile-files.ts';
import { manifestObject, tempDir, writePlugin } from '../helpers/plugin.ts';

const opts = (code: FileErrorCode = 'build-failed', maxBytes = 1024) => ({ code, maxBytes });

function refusedSync(t: import('ava').ExecutionContext, dir: string, rel: string, code: FileErrorCode, reason: string): void {
  const err = t.throws(() => readPluginFileSync(dir, rel, opts(code)), { instanceOf: AirlockError });
  t.is(err?.code, code);
  t.is(err?.details.reason, reason);
  t.true(err?.message.includes(rel.split('/').at(-1)!), err?.message);
  t.is(err?.problems.length, 1);
  t.truthy(err?.problems[0]?.hint);
}

async function refusedAsync(t: import('ava').ExecutionContext, dir: string, rel: string, code: FileErrorCode, reason: string): Promise<void> {
  const err = await t.throwsAsync(readPluginFile(dir, rel, opts(code)), { instanceOf: AirlockError });
  t.is(err?.code, code);
  t.is(err?.details.reason, reason);
}

test('a regular file inside the folder is read whole, sync and async, also through a symlink that stays inside', async (t) => {
  const dir = tempDir();
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub/a.txt'), 'hello');
  linkTo('sub/a.txt', join(dir, 'link.txt'));
  t.is(readPluginFileSync(dir, 'sub/a.txt', opts()).toString(), 'hello');
  t.is((await readPluginFile(dir, 'link.txt', opts())).toString(), 'hello');
  t.is((await readPluginFile(dir, join(dir, 'sub/a.txt'), opts())).toString(), 'hello');
});

test('a file above the cap is refused before it is read (size), with its size and the limit', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'big'), Buffer.alloc(1025));
  refusedSync(t, dir, 'big', 'invalid-manifest', 'size');
  await refusedAsync(t, dir, 'big', 'build-failed', 'size');
  t.regex(t.throws(() => readPluginFileSync(dir, 'big', opts()))?.message ?? '', /is 1025 bytes; the limit is 1024/);
});

test('hostile file types are refused with the caller code: FIFO, socket, device (type), symlink loop (loop), links and paths out (outside), missing', async (t) => {
  const dir = tempDir();
  fifo(join(dir, 'fifo'));
  socket(join(dir, 'sock'));
  device(join(dir, 'zero'));
  loop(join(dir, 'a'), join(dir, 'b'));
  linkTo('/dev/zero', join(dir, 'devzero'));
  linkTo('/etc/hostname', join(dir, 'out'));
  linkTo('fifo', join(dir, 'to-fifo'));
  mkdirSync(join(dir, 'folder'));
  for (const code of ['invalid-manifest', 'build-failed'] as const) {
    for (const [rel, reason] of [
      ['fifo', 'type'],
      ['sock', 'type'],
      ['zero', 'type'],
      ['to-fifo', 'type'],
      ['folder', 'type'],
      ['a', 'loop'],
      ['devzero', 'outside'],
      ['out', 'outside'],
      ['../x', 'outside'],
      ['nope', 'missing'],
    ] as const) {
      refusedSync(t, dir, rel, code, reason);
      await refusedAsync(t, dir, rel, code, reason);
    }
  }
  t.throws(() => checkPluginFileSync(dir, 'fifo', 'invalid-manifest'), { message: /is a FIFO \(named pipe\), not a regular file/ });
});

test('FIFOs do not park the thread pool: while many are read, an unrelated readFile and another plugin validate complete', async (t) => {
  // More hostile reads than libuv has threads (4 by default): with a blocking open they would park every thread.
  t.timeout(120_000);
  const dir = tempDir();
  const hostile = Array.from({ length: 16 }, (_, i) => fifo(join(dir, `p${i}`)));
  const reads = hostile.map((p) =>
    readPluginFile(dir, p, opts()).then(
      () => 'read',
      (e: unknown) => (e as AirlockError).details.reason,
    ),
  );
  const other = writePlugin(manifestObject({ name: 'other' }));
  const unrelated = tempDir();
  writeFileSync(join(unrelated, 'x.txt'), 'still served');
  const [text, results, validated] = await Promise.all([readFile(join(unrelated, 'x.txt'), 'utf8'), Promise.all(reads), validatePluginOffThread(other.dir)]);
  t.is(text, 'still served');
  t.deepEqual(new Set(results), new Set(['type']));
  t.true(validated.ok);
  t.true(validatePlugin(other.dir).ok);
});
