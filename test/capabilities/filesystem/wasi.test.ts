/**
 * Filesystem grants, end to end: a C guest (test/engines/wasm/guest) doing
 * POSIX file operations through wasi-libc and the preview1 adapter, against
 * real folders granted read-only and read-write.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WasmEngine, type WasmPlugin } from '../../../src/engines/wasm/index.ts';
import { makeGrants } from '../../helpers/grants.ts';
import { buildTestGuest, testTranspile } from '../../engines/wasm/helpers.ts';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'airlock-fs-')));
const ro = join(root, 'ro');
const rw = join(root, 'rw');
mkdirSync(join(ro, 'sub'), { recursive: true });
mkdirSync(join(ro, 'empty'));
mkdirSync(rw);
writeFileSync(join(ro, 'file.txt'), 'hello');
writeFileSync(join(ro, 'sub', 'inner.txt'), 'inner');
writeFileSync(join(root, 'secret.txt'), 'secret');
symlinkSync('../secret.txt', join(ro, 'escape'));
symlinkSync(join(root, 'secret.txt'), join(ro, 'abs-escape'));
symlinkSync('sub', join(ro, 'inside-link'));
// A directory replaced by a symlink (what a swap during an open would leave).
symlinkSync(root, join(rw, 'swapped'));
execFileSync('mkfifo', [join(ro, 'pipe')]);

const engine = new WasmEngine({ transpile: testTranspile });
test.after.always(() => engine.close());

let plugin: WasmPlugin;
test.before(async () => {
  plugin = await engine.load(
    makeGrants({
      // A FIFO that blocked would show up as `timeout`, not as an error result.
      resources: { timeoutMs: 5000 },
      filesystem: [
        { hostPath: ro, mount: '/ro', access: 'read' },
        { hostPath: rw, mount: '/rw', access: 'read-write' },
      ],
    }),
    await buildTestGuest(),
  );
});

const run = async (tool: string, arg: string): Promise<string> => JSON.parse((await plugin.call(tool, JSON.stringify(arg))).output) as string;

test.serial('granted files are readable at their mount paths', async (t) => {
  t.is(await run('read', '/ro/file.txt'), 'hello');
  t.is(await run('read', '/ro/sub/inner.txt'), 'inner');
  t.is(await run('read', '/ro/sub/../file.txt'), 'hello');
  t.regex(await run('ls', '/ro'), /file\.txt/);
});

test.serial('a read-only grant refuses every kind of write and the host files stay as they were', async (t) => {
  const attempts: [string, string][] = [
    ['write', '/ro/new.txt'], // create
    ['write', '/ro/file.txt'], // truncate + write
    ['append', '/ro/file.txt'],
    ['truncate', '/ro/file.txt'],
    ['mkdir', '/ro/dir'],
    ['unlink', '/ro/file.txt'],
    ['rmdir', '/ro/empty'],
    ['rename', '/ro/file.txt|/ro/moved.txt'],
    ['symlink', 'file.txt|/ro/link'],
    ['link', '/ro/file.txt|/ro/hard'],
  ];
  for (const [tool, arg] of attempts) t.regex(await run(tool, arg), /errno/, `${tool} ${arg}`);
  t.is(readFileSync(join(ro, 'file.txt'), 'utf8'), 'hello');
  for (const f of ['new.txt', 'dir', 'moved.txt', 'link', 'hard']) t.false(existsSync(join(ro, f)), f);
  t.true(existsSync(join(ro, 'empty')));
});

test.serial('rename and link never carry a file from a read-only grant into a writable one', async (t) => {
  t.regex(await run('rename', '/ro/file.txt|/rw/stolen.txt'), /errno/);
  t.regex(await run('link', '/ro/file.txt|/rw/linked.txt'), /errno/);
  t.true(existsSync(join(ro, 'file.txt')));
  t.false(existsSync(join(rw, 'stolen.txt')));
  t.false(existsSync(join(rw, 'linked.txt')));
});

test.serial('a read-write grant allows create, write, mkdir, rename and unlink', async (t) => {
  t.is(await run('write', '/rw/out.txt'), 'ok');
  t.is(readFileSync(join(rw, 'out.txt'), 'utf8'), 'data');
  t.is(await run('append', '/rw/out.txt'), 'ok');
  t.is(await run('read', '/rw/out.txt'), 'datadata');
  t.is(await run('mkdir', '/rw/d'), 'ok');
  t.is(await run('rename', '/rw/out.txt|/rw/d/moved.txt'), 'ok');
  t.is(readFileSync(join(rw, 'd', 'moved.txt'), 'utf8'), 'datadata');
  t.is(await run('unlink', '/rw/d/moved.txt'), 'ok');
  t.false(existsSync(join(rw, 'd', 'moved.txt')));
});

test.serial('the guest cannot create symlinks, even in a writable grant', async (t) => {
  t.regex(await run('symlink', '../../secret.txt|/rw/evil'), /errno/);
  t.false(existsSync(join(rw, 'evil')));
});

test.serial('.. and absolute paths cannot leave the preopens', async (t) => {
  for (const p of ['/ro/../secret.txt', '/ro/sub/../../secret.txt', '/rw/../secret.txt', `${root}/secret.txt`, '/secret.txt', '/etc/passwd']) {
    t.regex(await run('read', p), /errno/, p);
  }
});

test.serial('symlinks are never followed: relative, absolute, inside the grant, or a directory swapped for one', async (t) => {
  for (const p of ['/ro/escape', '/ro/abs-escape', '/ro/inside-link/inner.txt', '/rw/swapped/secret.txt', '/rw/swapped/ro/file.txt']) {
    t.regex(await run('read', p), /errno/, p);
  }
  t.regex(await run('write', '/rw/swapped/planted.txt'), /errno/);
  t.false(existsSync(join(root, 'planted.txt')));
});

test.serial('a FIFO is refused before any blocking open', async (t) => {
  t.regex(await run('read', '/ro/pipe'), /errno/);
  t.regex(await run('append', '/ro/pipe'), /errno/);
});

test('without a filesystem grant there are no preopens at all', async (t) => {
  const p = await engine.load(makeGrants(), await buildTestGuest());
  const out = JSON.parse((await p.call('read', JSON.stringify(join(ro, 'file.txt')))).output) as string;
  t.regex(out, /errno/);
  t.regex(JSON.parse((await p.call('ls', '"/"')).output) as string, /errno/);
  await p.close();
});

test.serial('fds held by a worker killed on timeout do not leak into the host process', async (t) => {
  const held = () =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(ro);
      } catch {
        return false;
      }
    }).length;
  const before = held();
  const p = await engine.load(makeGrants({ resources: { timeoutMs: 300 }, filesystem: [{ hostPath: ro, mount: '/ro', access: 'read' }] }), await buildTestGuest());
  for (let i = 0; i < 3; i++) {
    t.is(await p.call('read', '"/ro/file.txt"').then((r) => JSON.parse(r.output) as string), 'hello');
    t.true(held() > before);
    await t.throwsAsync(p.call('loop', '""'), { message: /300 ms/ });
  }
  await p.close();
  t.is(held(), before);
});
