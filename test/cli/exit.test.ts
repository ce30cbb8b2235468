/**
 * The `airlock` process ends as soon as its command has returned and what it
 * printed is flushed (src/cli/main.ts exitOnceFlushed), not after Node's
 * teardown: a reader that takes its time still gets every byte, and the exit
 * status is the command's.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const ECHO = fileURLToPath(new URL('../../fixtures/plugins/echo-c', import.meta.url));

/** Runs the CLI with `input` on stdin; its stdout is read only after a while (or once it ended): a slow reader, whose pipe fills. */
function airlock(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    let reading = false;
    const read = (): void => {
      if (reading) return;
      reading = true;
      child.stdout.on('data', (c: Buffer) => out.push(c));
    };
    child.stdout.pause();
    const resume = setTimeout(() => {
      read();
      child.stdout.resume();
    }, 500);
    // Node resumes a child's unread stdio once it has exited, dropping what no listener takes: a process that
    // ends before the slow reader starts (a short refusal) is read from its exit on.
    child.on('exit', read);
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('close', (code) => {
      clearTimeout(resume);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: err });
    });
    child.stdin.end(input);
  });
}

test('a result larger than a pipe holds reaches a slow reader whole, and the status is 0', async (t) => {
  const value = { text: 'x'.repeat(200_000), list: Array.from({ length: 2000 }, (_, i) => i) };
  const r = await airlock(['call', ECHO, 'echo', '-'], JSON.stringify(value));
  t.is(r.code, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), value);
});

test('a refused call exits 1, its JSON error printed whole', async (t) => {
  const r = await airlock(['call', ECHO, 'add', '-', '--json'], '{"a":"one","b":2}');
  t.is(r.code, 1, r.stderr);
  const printed = JSON.parse(r.stdout) as { ok: boolean; error: { code: string } };
  t.false(printed.ok);
  t.is(printed.error.code, 'invalid-input');
});
