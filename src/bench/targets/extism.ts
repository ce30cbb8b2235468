/**
 * Baselines from outside Airlock: Extism's JS SDK running the same C code
 * as bench-c (fixtures/plugins/bench-c/bench.c, compiled unchanged against
 * fixtures/extism/airlock_tools.h, which makes each tool an Extism export
 * over Extism's kernel ABI, fixtures/extism/extism_abi.h) with the same clang
 * flags as Airlock's C build, in the main thread and in Extism's own worker
 * (`runInWorker`).
 *
 * The SDK does not ship with Airlock: it is the dev dependency
 * `@extism/extism` (EXTISM_SDK may name its ESM entry file instead); without
 * it both targets are unavailable, with the reason.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { FIXTURES_DIR } from '../../build/fixtures.ts';
import { AirlockError } from '../../errors.ts';
import { residentBytes } from '../memory.ts';
import type { OpenOptions, PluginSetup, Session, Target, TargetBudgets } from '../target.ts';

/** The SDK version the figures are for (the dev dependency pins it). */
export const EXTISM_SDK_VERSION = '1.0.3';

const BUDGETS: TargetBudgets = { warmup: 200, latency: { samples: 5000, ms: 400 }, throughput: { samples: 50_000, ms: 300 }, maxInstances: 4 };

/** What the SDK's createPlugin returns, as far as the bench uses it. */
interface ExtismPlugin {
  call(name: string, input: string): Promise<{ text(): string } | null>;
  close(): Promise<void>;
}
type CreatePlugin = (manifest: { wasm: { data: Uint8Array }[] }, options: { useWasi: boolean; runInWorker: boolean }) => Promise<ExtismPlugin>;

let sdk: Promise<CreatePlugin> | undefined;

function loadSdk(): Promise<CreatePlugin> {
  const where = process.env.EXTISM_SDK;
  sdk ??= (import(where === undefined ? '@extism/extism' : pathToFileURL(where).href) as Promise<{ default: CreatePlugin }>).then((m) => m.default);
  return sdk;
}

let module: Promise<Uint8Array> | undefined;

/** bench-c's code built for Extism once per process (clang flags as src/build/wasm.ts builds a C plugin). */
export function extismBenchModule(): Promise<Uint8Array> {
  module ??= (async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'airlock-bench-extism-')), 'bench-extism.wasm');
    const args = [
      '--target=wasm32-wasi',
      '--sysroot=/usr',
      '-O2',
      '-mexec-model=reactor',
      '-Wl,--strip-all',
      `-I${join(FIXTURES_DIR, '..', 'extism')}`,
      '-o',
      out,
      join(FIXTURES_DIR, 'bench-c', 'bench.c'),
    ];
    try {
      await promisify(execFile)('clang', args, { timeout: 120_000 });
    } catch (e) {
      const err = e as Error & { stderr?: string };
      throw new AirlockError('build-failed', `building bench-c for Extism failed: ${err.stderr?.trim() || err.message}`, { cause: e });
    }
    return readFileSync(out);
  })();
  module.catch(() => {
    module = undefined;
  });
  return module;
}

async function unavailable(): Promise<string | undefined> {
  try {
    await loadSdk();
  } catch (e) {
    sdk = undefined;
    return `the Extism JS SDK cannot be imported (${(e as Error).message.split('\n')[0]}): npm install -D @extism/extism@${EXTISM_SDK_VERSION}, or set EXTISM_SDK to its ESM entry`;
  }
  try {
    await extismBenchModule();
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

function extismTarget(name: 'extism' | 'extism-worker', runInWorker: boolean): Target {
  return {
    name,
    label: `Extism JS SDK ${EXTISM_SDK_VERSION}, ${runInWorker ? 'worker thread' : 'main thread'} (same C code)`,
    kind: 'baseline',
    form: 'module',
    plugins: ['bench-c'],
    budgets: BUDGETS,
    unavailable,
    async open(setup: PluginSetup, options: OpenOptions): Promise<Session> {
      if (setup.plugin.name !== 'bench-c') throw new AirlockError('internal', `the Extism baseline runs bench-c only, not ${setup.plugin.name}`);
      // Memory per instance is what the process's resident memory grows by: an Extism worker's heap is not visible from here either.
      const before = options.memory === true ? residentBytes() : 0;
      const createPlugin = await loadSdk();
      const wasm = await extismBenchModule();
      // One plugin per instance: an Extism plugin runs one call at a time.
      const plugins: ExtismPlugin[] = [];
      try {
        for (let i = 0; i < options.instances; i++) plugins.push(await createPlugin({ wasm: [{ data: wasm }] }, { useWasi: true, runInWorker }));
      } catch (e) {
        await Promise.allSettled(plugins.map((p) => p.close()));
        throw e;
      }
      // An Extism plugin is not reentrant (its worker refuses a second call in flight): calls to one plugin take turns.
      const turns: Promise<unknown>[] = plugins.map(() => Promise.resolve());
      let next = 0;
      return {
        call(tool, input) {
          const i = next++ % plugins.length;
          const run = (turns[i] as Promise<unknown>).then(async () => {
            const out = await (plugins[i] as ExtismPlugin).call(tool, input);
            return out === null ? '' : out.text();
          });
          turns[i] = run.catch(() => undefined);
          return run;
        },
        memoryPerInstance: async () => (options.memory === true ? (residentBytes() - before) / options.instances : undefined),
        close: async () => {
          await Promise.allSettled(plugins.splice(0).map((p) => p.close()));
        },
      };
    },
  };
}

export const extismMainTarget = extismTarget('extism', false);
export const extismWorkerTarget = extismTarget('extism-worker', true);
