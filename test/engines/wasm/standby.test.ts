/**
 * Blank workers started ahead (src/engines/wasm/standby.ts): a load adopts
 * one instead of starting a thread, a replacement follows, and standbys
 * never keep the process alive.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { WasmEngine } from '../../../src/engines/wasm/index.ts';
import { retire, standby, startBlank } from '../../../src/engines/wasm/standby.ts';
import { makeGrants } from '../../helpers/grants.ts';
import { fixtureComponent } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'airlock-standby-'));
const glue = join(dir, 'glue.js');
writeFileSync(
  glue,
  `import { threadId } from 'node:worker_threads';
export function instantiate() {
  return { 'airlock:plugin/tools@0.1.0': { call: () => JSON.stringify({ threadId }) } };
}
`,
);
const engine = new WasmEngine({ transpile: async () => ({ glue: pathToFileURL(glue).href, modules: {} }) });
test.after.always(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

const threadOf = async (p: { call(tool: string, input: string): Promise<{ output: string }> }): Promise<number> =>
  (JSON.parse((await p.call('x', '{}')).output) as { threadId: number }).threadId;

test.serial('a load adopts a started standby worker, and the standby starts another', async (t) => {
  standby.resize(1);
  const [ahead] = await standby.threads();
  t.not(ahead, undefined, 'a standby worker started');
  const p = await engine.load(makeGrants({ plugin: { name: 'adopter' } }), { kind: 'component', path: '/unused.wasm' });
  t.is(await threadOf(p), ahead as number);
  const [next] = await standby.threads();
  t.not(next, undefined);
  t.not(next, ahead);
  await p.close();
});

test.serial('without a standby a load starts its own worker', async (t) => {
  standby.resize(0);
  t.deepEqual(await standby.threads(), []);
  const p = await engine.load(makeGrants({ plugin: { name: 'cold' } }), { kind: 'component', path: '/unused.wasm' });
  t.true((await threadOf(p)) > 0);
  await p.close();
  standby.resize(1);
});

test('a blank worker says it is settled after it says standby (the threads it started have booted), and threads() waits for that', async (t) => {
  const { worker, ready, settled } = startBlank();
  const order: string[] = [];
  const done = Promise.all([ready.then(() => order.push('standby')), settled.then(() => order.push('settled'))]);
  await done;
  t.deepEqual(order, ['standby', 'settled']);
  await retire(worker, ready);
});

/** The worker threads `fn` creates in this thread (Node's `worker_threads` diagnostics channel). */
function created(fn: () => void): Worker[] {
  const out: Worker[] = [];
  const onWorker = (m: unknown): void => void out.push((m as { worker: Worker }).worker);
  subscribe('worker_threads', onWorker);
  try {
    fn();
  } finally {
    unsubscribe('worker_threads', onWorker);
  }
  return out;
}

test.serial('a standby dropped while it starts is terminated only once it has started: never an exit before online (nodejs/node#64500)', async (t) => {
  standby.resize(0);
  const [w, ...more] = created(() => standby.resize(1));
  t.is(more.length, 0);
  const seen: string[] = [];
  const worker = w as Worker;
  worker.on('online', () => seen.push('online'));
  worker.on('message', (m: { type?: string }) => m?.type === 'standby' && seen.push('standby'));
  const exited = once(worker, 'exit');
  // Dropped in the same tick it was created: it cannot have started yet.
  standby.resize(0);
  // A standby is unref'd: something must keep this thread alive while it waits.
  const alive = setInterval(() => {}, 1 << 30);
  await exited.finally(() => clearInterval(alive));
  seen.push('exit');
  t.deepEqual(seen, ['online', 'standby', 'exit']);
  standby.resize(1);
});

test.serial(
  'a standby dropped right after it says standby is terminated only once it has settled (what it starts after `standby` is over: a guessed glue compiled, a shim thread booted)',
  async (t) => {
    standby.resize(0);
    const [w] = created(() => standby.resize(1));
    const worker = w as Worker;
    const seen: string[] = [];
    const exited = once(worker, 'exit');
    const alive = setInterval(() => {}, 1 << 30);
    await new Promise<void>((resolve) => {
      worker.on('message', (m: { type?: string }) => {
        if (m?.type === 'settled') seen.push('settled');
        if (m?.type !== 'standby') return;
        seen.push('standby');
        // Dropped at once: what it does after `standby` may still be running.
        standby.resize(0);
        resolve();
      });
    });
    await exited.finally(() => clearInterval(alive));
    seen.push('exit');
    t.deepEqual(seen, ['standby', 'settled', 'exit']);
    standby.resize(1);
  },
);

test('a host run as `node --input-type=module -e` starts its workers (the flag is not passed on to them)', async (t) => {
  const component = await fixtureComponent('echo-c');
  const root = new URL('../../../', import.meta.url);
  const code = `import { WasmEngine } from ${JSON.stringify(new URL('src/engines/wasm/index.ts', root).href)};
     import { fixtureGrants } from ${JSON.stringify(new URL('test/engines/wasm/helpers.ts', root).href)};
     const engine = new WasmEngine();
     const p = await engine.load(fixtureGrants('echo-c'), { kind: 'component', path: ${JSON.stringify(component)} });
     process.stdout.write((await p.call('echo', '{"message":"eval"}')).output);
     await engine.close();`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], { timeout: 90_000 });
  t.deepEqual(JSON.parse(stdout), { message: 'eval' });
});

test('a host run with a V8 flag (`node --no-wasm-dynamic-tiering`) starts its workers (an explicit execArgv carrying it would be refused)', async (t) => {
  const component = await fixtureComponent('echo-c');
  const root = new URL('../../../', import.meta.url);
  const script = join(dir, 'v8-flag.mjs');
  writeFileSync(
    script,
    `import { WasmEngine } from ${JSON.stringify(new URL('src/engines/wasm/index.ts', root).href)};
     import { fixtureGrants } from ${JSON.stringify(new URL('test/engines/wasm/helpers.ts', root).href)};
     const engine = new WasmEngine();
     const p = await engine.load(fixtureGrants('echo-c'), { kind: 'component', path: ${JSON.stringify(component)} });
     process.stdout.write((await p.call('echo', '{"message":"flag"}')).output);
     await engine.close();`,
  );
  const { stdout } = await promisify(execFile)(process.execPath, ['--no-wasm-dynamic-tiering', script], { timeout: 90_000 });
  t.deepEqual(JSON.parse(stdout), { message: 'flag' });
});

test('standby workers never keep the process alive, before or after a plugin was loaded and closed', async (t) => {
  const component = await fixtureComponent('echo-c');
  const root = new URL('../../../', import.meta.url);
  const script = join(dir, 'exit.mjs');
  writeFileSync(
    script,
    `import { WasmEngine } from ${JSON.stringify(new URL('src/engines/wasm/index.ts', root).href)};
     import { fixtureGrants } from ${JSON.stringify(new URL('test/engines/wasm/helpers.ts', root).href)};
     const engine = new WasmEngine({ standby: 2 });
     const p = await engine.load(fixtureGrants('echo-c'), { kind: 'component', path: ${JSON.stringify(component)} });
     process.stdout.write((await p.call('echo', '{"message":"bye"}')).output);
     await engine.close();`,
  );
  // Bounded generously: a process kept alive by a standby never exits, so the bound ends it (code null).
  const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 90_000 });
  t.deepEqual(JSON.parse(stdout), { message: 'bye' });
});
