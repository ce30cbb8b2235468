/**
 * The disk quota of read-write grants on the worker engine
 * (src/capabilities/filesystem/quota.ts): the disk-fill fixture writes and
 * creates past resources.disk / resources.files and must get ENOSPC / EDQUOT
 * inside the plugin, while the host folder never holds more than the quota.
 */
import test from 'ava';
import { thrown } from './helpers.ts';
import { linkSync, lstatSync, mkdirSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createFilesystem } from '../../../src/capabilities/filesystem/preopens.ts';
import { createQuotaState, measure, Quota, quotaUsage, releaseQuotaLock } from '../../../src/capabilities/filesystem/quota.ts';
import { baselineWasi } from '../../../src/capabilities/index.ts';
import { WasmEngine, type WasmPlugin } from '../../../src/engines/wasm/index.ts';
import type { GrantsOverrides } from '../../helpers/grants.ts';
import { tempDir } from '../../helpers/plugin.ts';
import { fixtureComponent, fixtureGrants } from '../../engines/wasm/helpers.ts';

/** The WASI baseline (every family), as a worker builds it. */
const BASE = await baselineWasi();

const engine = new WasmEngine();
test.after.always(() => engine.close());

/** WASI errno values as wasi-libc reports them (the plugin sees these, not Linux's). */
const ENOSPC = 51;
const EDQUOT = 19;
const KiB = 1024;
const MiB = 1024 * KiB;

async function load(dir: string, resources: GrantsOverrides['resources'], o: GrantsOverrides = {}): Promise<WasmPlugin> {
  const grants = fixtureGrants('disk-fill', {
    ...o,
    resources: { timeoutMs: 60_000, ...resources },
    filesystem: [{ hostPath: dir, mount: '/rw', access: 'read-write' }],
  });
  return engine.load(grants, { kind: 'component', path: await fixtureComponent('disk-fill') });
}

/** Runs a tool; returns [errno or 0, count]. */
async function run(p: WasmPlugin, tool: string, input: Record<string, string>): Promise<[number, number]> {
  const out = JSON.parse((await p.call(tool, JSON.stringify(input))).output) as string;
  const ok = /^ok:(\d+)$/.exec(out);
  if (ok) return [0, Number(ok[1])];
  const err = /^errno:(\d+):[^:]*:(\d+)$/.exec(out);
  if (!err) throw new Error(`unexpected answer ${out}`);
  return [Number(err[1]), Number(err[2])];
}

/** What the folder holds, measured on the host: bytes of regular files and entries, recursively. */
function usage(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    files++;
    if (e.isDirectory()) {
      const sub = usage(join(dir, e.name));
      bytes += sub.bytes;
      files += sub.files;
    } else if (e.isFile()) bytes += lstatSync(join(dir, e.name)).size;
  }
  return { bytes, files };
}

const folder = (): string => realpathSync(tempDir('airlock-quota-'));

test('one big file: the write past resources.disk fails with ENOSPC and the folder stays within the quota, what was there counting', async (t) => {
  const dir = folder();
  writeFileSync(join(dir, 'old'), Buffer.alloc(256 * KiB));
  const p = await load(dir, { diskBytes: MiB });
  const [errno, written] = await run(p, 'fill', { path: '/rw/big', bytes: String(5 * MiB), chunk: String(MiB) });
  t.is(errno, ENOSPC);
  t.true(written <= 768 * KiB, `wrote ${written}`);
  t.true(usage(dir).bytes <= MiB, `folder holds ${usage(dir).bytes}`);
  // The room left was filled, not refused wholesale: a short write takes what fits.
  t.is(usage(dir).bytes, MiB);
  // Set-size is a write too.
  t.deepEqual(await run(p, 'grow', { path: '/rw/sparse', bytes: String(MiB) }), [ENOSPC, 0]);
  t.true(usage(dir).bytes <= MiB);
});

test('many small appends stop at the quota with ENOSPC, within one append of it', async (t) => {
  const dir = folder();
  const p = await load(dir, { diskBytes: 200 * KiB });
  const [errno, written] = await run(p, 'fill', { path: '/rw/log', bytes: String(MiB), chunk: '100', append: '1' });
  t.is(errno, ENOSPC);
  const held = usage(dir).bytes;
  t.true(held <= 200 * KiB, `folder holds ${held}`);
  t.true(written > 200 * KiB - 100 && written <= held, `wrote ${written}, folder holds ${held}`);
});

test('concurrent instances share one quota: together they cannot write past it', async (t) => {
  const dir = folder();
  const p = await load(dir, { diskBytes: MiB, concurrency: 4 });
  const results = await Promise.all([0, 1, 2, 3].map((i) => run(p, 'fill', { path: `/rw/w${i}`, bytes: String(MiB), chunk: String(16 * KiB) })));
  const written = results.reduce((n, [, w]) => n + w, 0);
  t.true(results.filter(([e]) => e === ENOSPC).length >= 3, JSON.stringify(results));
  t.true(written <= MiB, `instances wrote ${written} in all`);
  t.true(usage(dir).bytes <= MiB, `folder holds ${usage(dir).bytes}`);
});

test('per-call instances count what earlier calls wrote', async (t) => {
  const dir = folder();
  const p = await load(dir, { diskBytes: MiB }, { isolation: 'per-call' });
  t.deepEqual(await run(p, 'fill', { path: '/rw/a', bytes: String(600 * KiB), chunk: String(64 * KiB) }), [0, 600 * KiB]);
  const [errno] = await run(p, 'fill', { path: '/rw/b', bytes: String(600 * KiB), chunk: String(64 * KiB) });
  t.is(errno, ENOSPC);
  t.true(usage(dir).bytes <= MiB);
});

test('creating files past resources.files fails with EDQUOT; folders count, and so do entries already there', async (t) => {
  const dir = folder();
  writeFileSync(join(dir, 'old'), 'x');
  mkdirSync(join(dir, 'sub'));
  const p = await load(dir, { files: 10 });
  t.deepEqual(await run(p, 'files', { path: '/rw/sub', count: '20' }), [EDQUOT, 8]);
  t.is(usage(dir).files, 10);
  t.deepEqual(await run(p, 'files', { path: '/rw', count: '1', dirs: '1' }), [EDQUOT, 0]);
  t.is(usage(dir).files, 10);
});

test('deleting frees quota: bytes and files can be used again', async (t) => {
  const dir = folder();
  const p = await load(dir, { diskBytes: 256 * KiB, files: 3 });
  t.deepEqual(await run(p, 'fill', { path: '/rw/a', bytes: String(256 * KiB), chunk: String(64 * KiB) }), [0, 256 * KiB]);
  t.is((await run(p, 'fill', { path: '/rw/b', bytes: '1', chunk: '1' }))[0], ENOSPC);
  // `b` was created (an entry, no bytes) although nothing fit in it.
  t.deepEqual(await run(p, 'unlink', { path: '/rw/a' }), [0, 0]);
  t.deepEqual(await run(p, 'fill', { path: '/rw/b', bytes: String(256 * KiB), chunk: String(64 * KiB) }), [0, 256 * KiB]);
  // b, f0, f1: the third entry fills resources.files.
  t.deepEqual(await run(p, 'files', { path: '/rw', count: '3', dirs: '1' }), [EDQUOT, 2]);
  t.deepEqual(await run(p, 'unlink', { path: '/rw/b' }), [0, 0]);
  t.deepEqual(await run(p, 'files', { path: '/rw/f0', count: '1', dirs: '1' }), [0, 1]);
  t.deepEqual(usage(dir), { bytes: 0, files: 3 });
});

test('the walk that counts a folder never follows symlinks, counts a hard-linked file once, and stops at its bound', (t) => {
  const dir = folder();
  const outside = folder();
  writeFileSync(join(outside, 'huge'), Buffer.alloc(64 * KiB));
  mkdirSync(join(dir, 'a'));
  writeFileSync(join(dir, 'a', 'f'), Buffer.alloc(1000));
  linkSync(join(dir, 'a', 'f'), join(dir, 'hard'));
  symlinkSync(outside, join(dir, 'link'));
  t.deepEqual(measure([dir], 100), { bytes: 1000, files: 4, complete: true });
  t.false(measure([dir], 3).complete, 'more entries than the bound: incomplete, so the caller treats the folder as full');
  t.false(measure([join(dir, 'missing')], 100).complete);
});

interface Desc {
  openAt(pf: object, path: string, of: object, df: object): Desc;
  [k: string]: (...args: never[]) => unknown;
}

/** The enforcing layer called directly with a quota, and its shared counters. */
function quotaPreopen(dir: string, bytes: number, files: number): { d: Desc; used: () => { bytes: number; files: number } } {
  const state = createQuotaState();
  const fs = createFilesystem([{ hostPath: dir, mount: '/rw', access: 'read-write' }], BASE, undefined, { bytes, files, state });
  const [[d]] = (fs['wasi:filesystem/preopens'] as { getDirectories(): [Desc, string][] }).getDirectories() as [[Desc, string]];
  return { d, used: () => ({ bytes: quotaUsage(state).bytes, files: quotaUsage(state).files }) };
}

test('the counters follow rename, link, unlink, truncate, set-size and pwrite exactly (the layer called directly)', (t) => {
  const dir = folder();
  writeFileSync(join(dir, 'a'), Buffer.alloc(100));
  writeFileSync(join(dir, 'b'), Buffer.alloc(300));
  const { d, used } = quotaPreopen(dir, 1000, 5);
  t.deepEqual(used(), { bytes: 400, files: 2 });
  // Renaming a over b frees b.
  d.renameAt!('a' as never, d as never, 'b' as never);
  t.deepEqual(used(), usage(dir));
  // A hard link is one more entry and no more bytes; unlinking one of two links frees no bytes.
  d.linkAt!({} as never, 'b' as never, d as never, 'c' as never);
  t.deepEqual(used(), { bytes: 100, files: 2 });
  d.unlinkFileAt!('b' as never);
  t.deepEqual(used(), { bytes: 100, files: 1 });
  const f = d.openAt({}, 'c', {}, { read: true, write: true });
  // pwrite past the end: the hole counts; a write that does not fit is cut to what does.
  t.is(f.write!(new Uint8Array(200) as never, 500n as never), 200n);
  t.deepEqual(used(), { bytes: 700, files: 1 });
  t.is(f.write!(new Uint8Array(500) as never, 700n as never), 300n);
  t.is(
    thrown(() => f.write!(new Uint8Array(1) as never, 1000n as never)),
    'insufficient-space',
  );
  t.is(
    thrown(() => f.setSize!(1001n as never)),
    'insufficient-space',
  );
  t.is(lstatSync(join(dir, 'c')).size, 1000);
  f.setSize!(10n as never);
  t.deepEqual(used(), { bytes: 10, files: 1 });
  // Opening with truncate frees what the file held.
  d.openAt({}, 'c', { truncate: true }, { write: true });
  t.deepEqual(used(), { bytes: 0, files: 1 });
  for (const name of ['d1', 'd2', 'd3', 'd4']) d.createDirectoryAt!(name as never);
  t.is(
    thrown(() => d.openAt({}, 'new', { create: true }, { write: true })),
    'quota',
  );
  t.is(
    thrown(() => d.createDirectoryAt!('d5' as never)),
    'quota',
  );
  t.is(
    thrown(() => d.linkAt!({} as never, 'c' as never, d as never, 'e' as never)),
    'quota',
  );
  d.removeDirectoryAt!('d1' as never);
  d.openAt({}, 'new', { create: true }, { write: true });
  t.deepEqual(used(), usage(dir));
});

test('a worker killed while holding the quota lock does not stall the plugin: the engine frees the lock it held', async (t) => {
  const state = createQuotaState();
  const worker = new Worker(new URL('./quota-holder.ts', import.meta.url), { workerData: state });
  const thread = worker.threadId;
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  t.true(quotaUsage(state).locked);
  releaseQuotaLock(state, thread + 1);
  t.true(quotaUsage(state).locked, "another thread's id frees nothing");
  await worker.terminate();
  t.true(quotaUsage(state).locked, 'a terminated worker keeps its lock until the engine frees it');
  releaseQuotaLock(state, thread);
  t.false(quotaUsage(state).locked);
  t.is(
    new Quota({ bytes: 1, files: 1 }, state).locked(() => 'taken'),
    'taken',
  );
});
