/**
 * plugin.yaml and the files it names, when they are hostile (src/manifest/load.ts through
 * src/plugin-files): every case is an `invalid-manifest` problem naming the file, and nothing blocks.
 */
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { AirlockError } from '../../src/errors.ts';
import { loadPlugin, validatePlugin } from '../../src/manifest/index.ts';
import { MAX_MANIFEST_BYTES } from '../../src/plugin-files/index.ts';
import { device, fifo, linkTo, loop, socket } from '../helpers/hostile-files.ts';
import { manifestObject, tempDir, writePlugin } from '../helpers/plugin.ts';

function problemsOf(t: import('ava').ExecutionContext, dir: string): string[] {
  const r = validatePlugin(dir);
  if (r.ok) {
    t.fail('expected problems');
    return [];
  }
  const err = t.throws(() => loadPlugin(dir), { instanceOf: AirlockError });
  t.is(err?.code, 'invalid-manifest');
  return r.problems.map((p) => `${p.path}: ${p.message} (${p.hint ?? ''})`);
}

for (const [name, make, expected] of [
  ['a FIFO', (p: string) => fifo(p), /is a FIFO \(named pipe\), not a regular file/],
  ['a symlink to /dev/zero', (p: string) => linkTo('/dev/zero', p), /resolves to \/dev\/zero, outside the plugin folder/],
  ['a symlink out of the folder', (p: string) => linkTo('/etc/hostname', p), /resolves to \/etc\/hostname, outside the plugin folder/],
  ['a socket', (p: string) => socket(p), /is a socket, not a regular file/],
  ['a device', (p: string) => device(p), /is a character device, not a regular file/],
  ['a symlink loop', (p: string) => loop(p, `${p}.2`), /is a symlink loop/],
  ['huge', (p: string) => writeFileSync(p, `# ${'x'.repeat(MAX_MANIFEST_BYTES)}\n`), /is 262147 bytes; the limit is 262144/],
] as const) {
  test(`plugin.yaml as ${name} is an invalid-manifest problem, refused without reading it`, (t) => {
    const dir = tempDir();
    make(join(dir, 'plugin.yaml'));
    const problems = problemsOf(t, dir);
    t.is(problems.length, 1);
    t.regex(problems[0]!, expected);
  });
}

for (const field of ['entry', 'wasm'] as const) {
  for (const [name, make, expected] of [
    ['a FIFO', (p: string) => fifo(p), /is a FIFO \(named pipe\), not a regular file/],
    ['a device', (p: string) => device(p), /is a character device, not a regular file/],
    ['a socket', (p: string) => socket(p), /is a socket, not a regular file/],
    ['a symlink loop', (p: string) => loop(p, `${p}.2`), /is a symlink loop/],
    ['a symlink out of the folder', (p: string) => linkTo('/etc/hostname', p), /resolves to \/etc\/hostname, outside the plugin folder/],
  ] as const) {
    test(`${field} as ${name} is an invalid-manifest problem at \`${field}\``, (t) => {
      const dir = tempDir();
      writeFileSync(join(dir, 'main.py'), '');
      const file = field === 'entry' ? 'bad.py' : 'bad.wasm';
      make(join(dir, file));
      writeFileSync(join(dir, 'plugin.yaml'), stringify(manifestObject(field === 'entry' ? { entry: file } : { wasm: file })));
      const problems = problemsOf(t, dir);
      t.is(problems.length, 1);
      t.true(problems[0]!.startsWith(`${field}: "${file}" `), problems[0]);
      t.regex(problems[0]!, expected);
    });
  }
}

test('a FIFO plugin.yaml does not park the thread pool: an unrelated readFile and another plugin validate while it is checked', async (t) => {
  t.timeout(120_000);
  const hostile = Array.from({ length: 8 }, () => {
    const dir = tempDir();
    fifo(join(dir, 'plugin.yaml'));
    return dir;
  });
  const other = writePlugin(manifestObject({ name: 'other' }));
  const unrelated = tempDir();
  mkdirSync(join(unrelated, 'd'));
  writeFileSync(join(unrelated, 'd/x.txt'), 'ok');
  const reading = readFile(join(unrelated, 'd/x.txt'), 'utf8');
  t.true(hostile.every((d) => !validatePlugin(d).ok));
  t.is(await reading, 'ok');
  t.true(validatePlugin(other.dir).ok);
});
