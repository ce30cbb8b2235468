/**
 * The plugins every target runs: fixtures/plugins/bench-{c,js,py}, each with
 * an `echo` tool and a CPU-bound `hash` tool (FNV-1a over a generated
 * buffer). bench-js and bench-py are one source served two ways, as
 * fixtures/plugins/conformance-dual is: the wasm engines run the component
 * of their `wasm:` entry (componentize-js / componentize-py), Docker runs
 * the same tools with Node / Python. bench-c is a component only.
 *
 * A result that differs from the expected one is an error, never a data point
 * (`details.wrongResult`: it ends the run).
 */
import { join } from 'node:path';
import { FIXTURES_DIR } from '../build/fixtures.ts';
import { AirlockError } from '../errors.ts';

export const BENCH_PLUGIN_NAMES = ['bench-c', 'bench-js', 'bench-py'] as const;
export type BenchPluginName = (typeof BENCH_PLUGIN_NAMES)[number];

export interface BenchPlugin {
  name: BenchPluginName;
  language: 'C' | 'JavaScript' | 'Python';
  dir: string;
  /** Docker can run it from source (node/python); C is a component only. */
  docker: boolean;
}

export const BENCH_PLUGINS: Record<BenchPluginName, BenchPlugin> = {
  'bench-c': { name: 'bench-c', language: 'C', dir: join(FIXTURES_DIR, 'bench-c'), docker: false },
  'bench-js': { name: 'bench-js', language: 'JavaScript', dir: join(FIXTURES_DIR, 'bench-js'), docker: true },
  'bench-py': { name: 'bench-py', language: 'Python', dir: join(FIXTURES_DIR, 'bench-py'), docker: true },
};

export const BENCH_TOOLS = ['echo', 'hash'] as const;
export type BenchTool = (typeof BENCH_TOOLS)[number];

/** Bytes the hash tool hashes: enough to dominate a warm call, small enough for Python in wasm. */
export const HASH_SIZE = 16384;

export const INPUTS: Record<BenchTool, string> = {
  echo: JSON.stringify({ message: 'hello', n: 42 }),
  hash: JSON.stringify({ size: HASH_SIZE }),
};

/** What the plugins compute: FNV-1a (32-bit) over byte i = (i * 31 + 7) & 0xff. */
export function fnv1a(size: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < size; i++) h = Math.imul(h ^ ((i * 31 + 7) & 0xff), 0x01000193) >>> 0;
  return h;
}

const EXPECTED: Record<BenchTool, unknown> = { echo: JSON.parse(INPUTS.echo), hash: fnv1a(HASH_SIZE) };

/** Throws when a tool's result (JSON text) is not the expected value (compared parsed: engines format JSON differently). */
export function checkResult(where: string, tool: BenchTool, output: string): void {
  let value: unknown;
  try {
    value = JSON.parse(output);
  } catch {
    throw new AirlockError('internal', `${where}: ${tool} returned text that is not JSON: ${output.slice(0, 200)}`, { details: { wrongResult: true } });
  }
  if (JSON.stringify(value) !== JSON.stringify(EXPECTED[tool])) {
    throw new AirlockError(
      'internal',
      `${where}: ${tool} returned ${output.slice(0, 200)}, expected ${JSON.stringify(EXPECTED[tool])}: the engines disagree, so no figure is recorded`,
      { details: { wrongResult: true } },
    );
  }
}
