/**
 * The token file of `airlock serve --http` (src/mcp/token-file.ts): private
 * to the user who started the server, never written through a planted link,
 * and a token the user keeps in a file read with checks.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { isAirlockError } from '../../src/errors.ts';
import { cacheRoot } from '../../src/paths.ts';
import { readTokenFile, removeTokenFile, tokenDir, tokenFilePath, writeTokenFile } from '../../src/mcp/index.ts';
import { tempDir } from '../helpers/plugin.ts';

const mode = (path: string): number => statSync(path).mode & 0o777;

test('token file: written mode 0600 in a folder of mode 0700 named after host and port, and removed', (t) => {
  const runtime = tempDir('airlock-run-');
  chmodSync(runtime, 0o755);
  const env = { XDG_RUNTIME_DIR: runtime };
  const path = writeTokenFile('the-token-0123456789', '::1', 8080, env);
  t.is(path, join(runtime, 'airlock', 'mcp-__1-8080.token'));
  t.is(path, tokenFilePath('::1', 8080, env));
  t.is(mode(path), 0o600);
  t.is(mode(join(runtime, 'airlock')), 0o700);
  t.is(readFileSync(path, 'utf8'), 'the-token-0123456789\n');
  removeTokenFile(path);
  t.false(existsSync(path));
  t.notThrows(() => removeTokenFile(path), 'already gone is fine');
});

test('token file: a looser existing folder is narrowed to 0700; a link planted at the file path is replaced, not written through', (t) => {
  const runtime = tempDir('airlock-run-');
  const env = { XDG_RUNTIME_DIR: runtime };
  mkdirSync(join(runtime, 'airlock'), { mode: 0o777 });
  chmodSync(join(runtime, 'airlock'), 0o777);
  const target = join(runtime, 'elsewhere');
  writeFileSync(target, 'untouched');
  symlinkSync(target, tokenFilePath('127.0.0.1', 9, env));
  const path = writeTokenFile('the-token-0123456789', '127.0.0.1', 9, env);
  t.is(mode(join(runtime, 'airlock')), 0o700);
  t.is(readFileSync(target, 'utf8'), 'untouched');
  t.is(mode(path), 0o600);
  t.is(readFileSync(path, 'utf8'), 'the-token-0123456789\n');
});

test('token file: the folder is $XDG_RUNTIME_DIR/airlock, else <cache root>/run', (t) => {
  t.is(tokenDir({ XDG_RUNTIME_DIR: '/run/user/1000' }), '/run/user/1000/airlock');
  t.is(tokenDir({}), join(cacheRoot(), 'run'));
  t.is(tokenDir({ XDG_RUNTIME_DIR: '' }), join(cacheRoot(), 'run'));
});

test('token file: a token the user gives is trimmed; a short or spaced one is refused naming the file; a file others can read warns', (t) => {
  const dir = tempDir('airlock-tok-');
  const good = join(dir, 'good');
  writeFileSync(good, '  my-own-token-0123456789\n', { mode: 0o600 });
  chmodSync(good, 0o600);
  t.deepEqual(readTokenFile(good), { token: 'my-own-token-0123456789' });
  chmodSync(good, 0o644);
  t.regex(readTokenFile(good).warning ?? '', /readable by other users \(mode 644\); chmod 600/);
  for (const [name, text, why] of [
    ['short', 'abc', /at least 16 characters/],
    ['spaced', 'two words of a token', /one word/],
    ['empty', '\n', /one word/],
  ] as const) {
    const file = join(dir, name);
    writeFileSync(file, text);
    const error = t.throws(() => readTokenFile(file));
    t.true(isAirlockError(error) && error.code === 'invalid-policy' && error.problems[0]?.file === file, name);
    t.regex(error?.message ?? '', why);
  }
  const missing = t.throws(() => readTokenFile(join(dir, 'none')));
  t.true(isAirlockError(missing) && missing.code === 'not-found');
});
