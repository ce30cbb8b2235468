/** A small BenchReport built by hand, for the writer tests (no engine runs). */
import type { BenchReport, CellRound, CellResult } from '../../src/bench/index.ts';
import { latencyStats, spread } from '../../src/bench/index.ts';

function rounds(baseMs: number, n: number): CellRound[] {
  return Array.from({ length: n }, (_, round) => ({
    round,
    coldCachedMs: baseMs * 100 + round,
    loadUncachedMs: baseMs * 200 + round,
    coldUncachedMs: baseMs * 300 + round,
    latency: { echo: latencyStats([baseMs, baseMs * (1 + round / 10), baseMs * 2]), hash: latencyStats([baseMs * 10, baseMs * 11]) },
    throughput: { '1': 1000 / baseMs, '4': 3000 / baseMs + round },
    memoryBytes: baseMs < 1 ? 1_000_000 + round : undefined,
  }));
}

function cell(target: CellResult['target'], plugin: CellResult['plugin'], baseMs: number, n: number): CellResult {
  const r = rounds(baseMs, n);
  return {
    target,
    plugin,
    instances: 2,
    rounds: r,
    summary: {
      coldCachedMs: spread(r.map((x) => x.coldCachedMs)),
      loadUncachedMs: spread(r.map((x) => x.loadUncachedMs)),
      coldUncachedMs: spread(r.map((x) => x.coldUncachedMs)),
      latency: {
        echo: { p50: spread(r.map((x) => x.latency.echo.p50)), p95: spread(r.map((x) => x.latency.echo.p95)), p99: spread(r.map((x) => x.latency.echo.p99)) },
        hash: { p50: spread(r.map((x) => x.latency.hash.p50)), p95: spread(r.map((x) => x.latency.hash.p95)), p99: spread(r.map((x) => x.latency.hash.p99)) },
      },
      throughput: { '1': spread(r.map((x) => x.throughput['1'])), '4': spread(r.map((x) => x.throughput['4'])) },
      memoryBytes: spread(r.map((x) => x.memoryBytes)),
      ratio: { echoP50: baseMs / 0.005 },
    },
  };
}

export function sampleReport(n = 3): BenchReport {
  return {
    schema: 'airlock-bench/1',
    command: 'airlock bench --engines in-thread,worker,wasmtime',
    startedAt: '2026-11-26T10:00:00.000Z',
    wallMs: 61_000,
    machine: {
      cpu: 'Test CPU <1>',
      cores: 2,
      memoryBytes: 8 * 1024 ** 3,
      os: 'TestOS',
      kernel: '1.0',
      arch: 'x64',
      loadBefore: [0.5, 0.4, 0.3],
      loadAfter: [1.5, 0.5, 0.3],
    },
    versions: { node: '24.0.0', jco: '1.0.0', 'preview2-shim': '0.1.0', 'componentize-js': '0.1.0' },
    config: {
      targets: ['in-thread', 'worker', 'wasmtime'],
      explicitTargets: true,
      plugins: ['bench-c', 'bench-js'],
      rounds: n,
      concurrency: [1, 4],
      budgetScale: 1,
      command: 'airlock bench',
      hashSize: 16384,
      inputs: { echo: '{"message":"hello"}', hash: '{"size":16384}' },
      budgets: {},
    },
    targets: [
      { name: 'in-thread', label: 'in-thread call (no isolation)', kind: 'baseline', form: 'component' },
      { name: 'worker', label: 'worker engine', kind: 'engine', form: 'component' },
      { name: 'wasmtime', label: 'wasmtime engine', kind: 'engine', form: 'component' },
    ],
    skipped: [{ target: 'docker-warm', reason: 'the Docker daemon does not answer' }],
    failures: [{ round: 1, target: 'wasmtime', plugin: 'bench-js', message: 'crash: wasmtime exited with 137' }],
    plugins: [
      { name: 'bench-c', language: 'C' },
      { name: 'bench-js', language: 'JavaScript' },
    ],
    cells: [
      cell('in-thread', 'bench-c', 0.005, n),
      cell('in-thread', 'bench-js', 0.05, n),
      cell('worker', 'bench-c', 0.02, n),
      cell('worker', 'bench-js', 0.3, n),
      cell('wasmtime', 'bench-c', 20, n),
      cell('wasmtime', 'bench-js', 25, n),
    ],
    builds: [
      { plugin: 'bench-c', stage: 'component', summary: spread([300, 310, 320]) },
      { plugin: 'bench-js', stage: 'component', summary: spread([5000, 5100, 5200]) },
    ],
  };
}
