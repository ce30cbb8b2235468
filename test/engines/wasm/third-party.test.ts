/**
 * Issue 3's "done when": a component built outside Airlock (hand-written WAT
 * assembled with wasm-tools, committed prebuilt in fixtures/plugins/third-party)
 * loads and answers through the real CLI, `airlock call <dir> <tool> '<json>'`,
 * run as a separate process exactly as a user would.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = join(root, 'fixtures', 'plugins', 'third-party');

async function airlock(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(root, 'src', 'cli', 'main.ts'), ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

test('airlock call runs the third-party component as is: echo and size answer', async (t) => {
  const echo = await airlock('call', dir, 'echo', '{"text":"héllo","n":[1,2]}');
  t.is(echo.code, 0, echo.stderr);
  t.deepEqual(JSON.parse(echo.stdout), { text: 'héllo', n: [1, 2] });
  const size = await airlock('call', dir, 'size', '{"text":"hi"}');
  t.is(size.code, 0, size.stderr);
  t.is(JSON.parse(size.stdout), Buffer.byteLength('{"text":"hi"}'));
});

test('airlock call --json shows the worker engine ran it', async (t) => {
  const ok = await airlock('call', dir, 'echo', '{"a":1}', '--json');
  t.like(JSON.parse(ok.stdout), { ok: true, value: { a: 1 }, metrics: { engine: 'wasm' } });
});
