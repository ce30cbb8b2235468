/**
 * Filesystem grants on the worker engine. What every engine must do with a
 * grant (read-only writes refused, `..`/absolute/symlink escapes, FIFOs) is
 * in test/conformance with the fs-escape fixture; this file covers what is
 * the worker engine's own: the raw fds its enforcing layer opens.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WasmEngine } from '../../../src/engines/wasm/index.ts';
import { fixtureComponent, fixtureGrants } from '../../engines/wasm/helpers.ts';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'airlock-fs-')));
const ro = join(root, 'ro');
mkdirSync(ro);
writeFileSync(join(ro, 'file.txt'), 'hello');
test.after.always(() => rmSync(root, { recursive: true, force: true }));

const engine = new WasmEngine();
test.after.always(() => engine.close());

const held = (): number =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(ro);
    } catch {
      return false;
    }
  }).length;

test.serial('fds held by a worker killed on timeout do not leak into the host process', async (t) => {
  const before = held();
  const grants = { filesystem: [{ hostPath: ro, mount: '/ro', access: 'read' as const }] };
  const reader = await engine.load(fixtureGrants('fs-escape', grants), { kind: 'component', path: await fixtureComponent('fs-escape') });
  t.is((await reader.call('read', '{"path":"/ro/file.txt"}')).output, '"ok:hello"');
  t.true(held() > before, 'the preopen is an fd of this process (workers share it)');
  await reader.close();
  t.is(held(), before);
  const p = await engine.load(fixtureGrants('state', grants), { kind: 'component', path: await fixtureComponent('state') });
  for (let i = 0; i < 3; i++) {
    t.is((await p.call('count', '{}')).output, '1');
    t.true(held() > before);
    await t.throwsAsync(p.call('spin', '{}', { timeoutMs: 300 }), { message: /300 ms/ });
  }
  await p.close();
  t.is(held(), before);
});
