/**
 * `node test/reliability/wasm-churn.ts [--minutes N] [--lanes K] [--only a,b]`:
 * a stress script (not a test) for V8's process-wide JIT page registry
 * (nodejs/node#64500: `Check failed: jit_page.has_value()`, exit 133). It
 * churns, in ONE process, what Airlock and ava do with wasm and threads:
 *
 *   lanes     K ava-like worker threads (as ava runs each test file), each
 *             running the wasm churn below in itself and ending after a few
 *             rounds (its nested wasm workers torn down with it), or
 *             terminated from the main thread; a new lane replaces it;
 *   standby   blank workers asked for and dropped while still starting
 *             (standby.resize), adopted by loads;
 *   plugins   an echo fixture (--fixtures, default echo-c and echo-js: a
 *             12 MB core module) loaded and closed, pooled or per-call isolation, with
 *             parking (idleMs), calls in flight at close;
 *   timeout   the `loop` fixture killed mid-call by its timeout;
 *   inthread  the main thread compiles and instantiates an echo fixture's core
 *             modules over and over while workers die.
 *
 * `--only` keeps the named parts. Prints one line per 10 s; a V8 fatal error
 * ends the process with 133 (SIGTRAP), which is what this hunts.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { loadInThread } from '../../src/bench/index.ts';
import { fixtureComponent } from '../../src/build/fixtures.ts';
import { runCall, WasmEngine } from '../../src/engines/wasm/index.ts';
import { standby } from '../../src/engines/wasm/standby.ts';
import { fixtureGrants } from '../engines/wasm/helpers.ts';

const PARTS = ['lanes', 'standby', 'plugins', 'timeout', 'inthread'] as const;
type Part = (typeof PARTS)[number];

interface LaneData {
  parts: Part[];
  /** Components of echo fixtures (echo-c, echo-js, echo-py: the same `echo` tool), one picked per load. */
  echo: string[];
  loop: string;
  rounds: number;
}

const rnd = (n: number): number => Math.floor(Math.random() * n);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** One ava-like test file: a few rounds of wasm churn, then it ends. */
async function lane(d: LaneData): Promise<void> {
  const has = (p: Part): boolean => d.parts.includes(p);
  const engine = new WasmEngine({ standby: 2 });
  for (let round = 0; round < d.rounds; round++) {
    const work: Promise<unknown>[] = [];
    if (has('standby')) {
      // Blank workers asked for, then dropped while they may still be starting.
      standby.resize(1 + rnd(3));
      for (let i = rnd(3); i > 0; i--) await tick();
      standby.resize(rnd(2));
    }
    if (has('plugins')) {
      const perCall = Math.random() < 0.5;
      const p = await engine.load(
        fixtureGrants('echo', { isolation: perCall ? 'per-call' : 'pooled', idleMs: rnd(2) === 0 ? 1 : 0, resources: { concurrency: 1 + rnd(3) } }),
        { kind: 'component', path: d.echo[rnd(d.echo.length)] as string },
      );
      for (let i = 0; i < 20; i++) work.push(p.call('echo', '{"message":"churn"}').catch(() => undefined));
      // Sometimes closed with calls in flight, sometimes after they settled; a parked slot restarts on the next call.
      const how = rnd(3);
      if (how === 0) await Promise.all(work);
      else if (how === 1) void p.park();
      work.push(p.close());
    }
    if (has('timeout')) {
      const p = await engine.load(fixtureGrants('loop', { resources: { timeoutMs: 20 + rnd(50) } }), { kind: 'component', path: d.loop });
      work.push(
        p
          .call('spin', '{}')
          .catch(() => undefined)
          .then(() => p.close()),
      );
    }
    await Promise.all(work);
  }
  await engine.close();
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      minutes: { type: 'string', default: '5' },
      lanes: { type: 'string', default: '4' },
      only: { type: 'string', default: PARTS.join(',') },
      fixtures: { type: 'string', default: 'echo-c,echo-js' },
    },
  });
  const parts = args.only.split(',').filter((p): p is Part => (PARTS as readonly string[]).includes(p));
  const until = Date.now() + Number(args.minutes) * 60_000;
  const echo = await Promise.all(args.fixtures.split(',').map((f) => fixtureComponent(f)));
  const loop = await fixtureComponent('loop');
  const stats = { lanes: 0, terminated: 0, laneErrors: 0, instances: 0, compiles: 0 };
  const started = Date.now();
  const report = setInterval(() => console.log(`${Math.round((Date.now() - started) / 1000)}s ${JSON.stringify(stats)}`), 10_000);
  const lanes = parts.includes('lanes') ? Number(args.lanes) : 0;

  const runLane = async (): Promise<void> => {
    while (Date.now() < until) {
      const data: LaneData = { parts, echo, loop, rounds: 1 + rnd(6) };
      const w = new Worker(fileURLToPath(import.meta.url), { workerData: data });
      stats.lanes++;
      w.on('error', (e) => {
        stats.laneErrors++;
        if (stats.laneErrors < 5) console.error(`lane error: ${e.message}`);
      });
      // ava's own end of a file is the lane returning; sometimes it is terminated from outside instead.
      const kill = rnd(3) === 0 ? setTimeout(() => void w.terminate().then(() => stats.terminated++), 50 + rnd(1500)) : undefined;
      await new Promise((r) => w.once('exit', r));
      clearTimeout(kill);
    }
  };

  const inThread = async (): Promise<void> => {
    const grants = fixtureGrants('echo-c');
    while (Date.now() < until) {
      // A fresh compile each time (new code space), then instances and calls, in the main thread.
      const p = await loadInThread(grants, echo[rnd(echo.length)] as string);
      stats.compiles++;
      for (let i = 0; i < 50; i++) {
        const inst = p.newInstance();
        runCall(inst, grants, 'echo', '{"message":"main"}');
        inst.release();
        stats.instances++;
        if (i % 4 === 3) await tick();
      }
      for (const i of p.instances.splice(0)) i.release();
    }
  };

  const solo = async (): Promise<void> => {
    // Without lanes, the churn runs in the main thread's own engine.
    while (Date.now() < until) {
      await lane({ parts, echo, loop, rounds: 5 });
      stats.lanes++;
    }
  };

  await Promise.all([
    ...Array.from({ length: lanes }, runLane),
    ...(lanes === 0 && parts.some((p) => p !== 'inthread') ? [solo()] : []),
    ...(parts.includes('inthread') ? [inThread()] : []),
  ]);
  clearInterval(report);
  console.log(`done ${JSON.stringify(stats)}`);
}

if (isMainThread) await main();
else {
  await lane(workerData as LaneData);
  parentPort?.close();
}
