/**
 * The tar writer and the bounded extractor (src/plugin-files/tar.ts): a
 * round trip keeps files, folders and executable bits; a hostile archive
 * (absolute path, `..`, links, devices, FIFOs, duplicates, too many entries
 * or bytes, a bad checksum, truncation) is refused and writes nothing outside the destination.
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAirlockError } from '../../src/errors.ts';
import { extractTar, tar, tarStream, TREE_LIMITS, type TarEntry } from '../../src/plugin-files/index.ts';
import { tempDir } from '../helpers/plugin.ts';

function archive(entries: TarEntry[], patch?: (tarBytes: Buffer) => void): string {
  const bytes = tar(entries);
  patch?.(bytes);
  const file = join(tempDir(), 'a.tar');
  writeFileSync(file, bytes);
  return file;
}

/** Sets the first header's type flag and fixes its checksum (the writer never makes such entries). */
function typeFlag(flag: string): (b: Buffer) => void {
  return (b) => {
    b.write(flag, 156, 'ascii');
    b.write('        ', 148, 'ascii');
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += b[i]!;
    b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  };
}

test('a round trip keeps files, folders, bytes and executable bits', async (t) => {
  const file = archive([
    { path: 'a/', type: 'dir' },
    { path: 'a/run.sh', type: 'file', data: Buffer.from('#!/bin/sh\n'), executable: true },
    { path: `${'long/'.repeat(30)}name.txt`, type: 'file', data: Buffer.from('deep') },
    { path: 'empty/', type: 'dir' },
  ]);
  const dest = join(tempDir(), 'out');
  await extractTar(file, dest, TREE_LIMITS);
  t.is(readFileSync(join(dest, 'a/run.sh'), 'utf8'), '#!/bin/sh\n');
  t.is(statSync(join(dest, 'a/run.sh')).mode & 0o777, 0o755);
  t.is(readFileSync(join(dest, `${'long/'.repeat(30)}name.txt`), 'utf8'), 'deep');
  t.true(statSync(join(dest, 'empty')).isDirectory());
});

/** The test of one hostile archive: refused with invalid-manifest naming why, nothing written outside the destination. */
function refused(make: () => string, message: RegExp) {
  return async (t: ExecutionContext): Promise<void> => {
    const file = make();
    const parent = tempDir();
    const err = await t.throwsAsync(extractTar(file, join(parent, 'out'), TREE_LIMITS));
    t.true(isAirlockError(err, 'invalid-manifest'), String(err));
    t.regex(err!.message, message);
    t.false(existsSync('/tmp/evil'));
    t.deepEqual(
      readdirSync(parent).filter((n) => n !== 'out'),
      [],
    );
  };
}

const one = (flag: string): string => archive([{ path: 'x', type: 'file', data: Buffer.alloc(0) }], typeFlag(flag));

test(
  'an archive with an absolute path is refused',
  refused(() => archive([{ path: '/tmp/evil', type: 'file', data: Buffer.from('x') }]), /not a plain relative path/),
);
test(
  'an archive with a .. segment is refused',
  refused(() => archive([{ path: 'a/../../evil', type: 'file', data: Buffer.from('x') }]), /not a plain relative path/),
);
test(
  'an archive with a symlink is refused',
  refused(() => archive([{ path: 'link', type: 'symlink', linkTarget: '/etc/passwd' }]), /is a symlink/),
);
test(
  'an archive with a hard link is refused',
  refused(() => one('1'), /is a hard link/),
);
test(
  'an archive with a character device is refused',
  refused(() => one('3'), /is a character device/),
);
test(
  'an archive with a block device is refused',
  refused(() => one('4'), /is a block device/),
);
test(
  'an archive with a FIFO is refused',
  refused(() => one('6'), /is a FIFO/),
);
test(
  'an archive with the same file twice is refused',
  refused(
    () =>
      archive([
        { path: 'x', type: 'file', data: Buffer.from('1') },
        { path: 'x', type: 'file', data: Buffer.from('2') },
      ]),
    /cannot be created/,
  ),
);
test(
  'an archive with a bad checksum is refused',
  refused(() => archive([{ path: 'x', type: 'file', data: Buffer.from('1') }], (b) => void (b[0] = 0x79)), /wrong checksum/),
);
test('a truncated archive is refused', refused(truncated, /ends in the middle of an entry|no end-of-archive/));

function truncated(): string {
  const bytes = tar([{ path: 'x', type: 'file', data: Buffer.alloc(2000) }]);
  const file = join(tempDir(), 'cut.tar');
  writeFileSync(file, bytes.subarray(0, 1024));
  return file;
}

test('the entry count and the total size are capped before anything past the cap is written', async (t) => {
  const many = archive(Array.from({ length: 11 }, (_, i) => ({ path: `f${i}`, type: 'file' as const, data: Buffer.from('x') })));
  const err = await t.throwsAsync(extractTar(many, join(tempDir(), 'out'), { ...TREE_LIMITS, maxEntries: 10 }));
  t.regex(err!.message, /more than 10 entries/);
  const big = archive([
    { path: 'a', type: 'file', data: Buffer.alloc(600) },
    { path: 'b', type: 'file', data: Buffer.alloc(600) },
  ]);
  const dest = join(tempDir(), 'out');
  const tooBig = await t.throwsAsync(extractTar(big, dest, { ...TREE_LIMITS, maxBytes: 1000 }));
  t.regex(tooBig!.message, /more than 1000 bytes/);
  t.false(existsSync(join(dest, 'b')));
});

test('tarStream gives the bytes tar() gives, one entry at a time (long names and links included)', async (t) => {
  const entries: TarEntry[] = [
    { path: 'a/', type: 'dir' },
    { path: 'a/x.txt', type: 'file', data: Buffer.from('x'.repeat(700)) },
    { path: `a/${'n'.repeat(120)}.sh`, type: 'file', data: Buffer.from('#!/bin/sh\n'), executable: true },
    { path: 'a/link', type: 'symlink', linkTarget: `${'t'.repeat(150)}/x.txt` },
  ];
  const parts: Buffer[] = [];
  for await (const chunk of tarStream(entries)) parts.push(chunk);
  t.deepEqual(Buffer.concat(parts), tar(entries));
});
