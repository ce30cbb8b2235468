/**
 * The attack matrix's columns and how a cell's test reaches them: the engines
 * of the conformance suite (test/conformance/engines.ts: one worker engine,
 * one wasmtime engine, one Docker engine per test file), each cell run on
 * the real engine through its public API (load(grants) -> call).
 *
 * A column runs a plugin of its own kind: the worker and wasmtime columns a
 * wasm fixture, docker-node and docker-python a Node or Python one (by
 * default the conformance fixtures, which have the wasm fixtures' tools with
 * the same names and results).
 */
import test, { type ExecutionContext } from 'ava';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import type { EnginePlugin } from '../../src/engines/types.ts';
import type { Grants } from '../../src/grants/types.ts';
import { loadPlugin } from '../../src/manifest/index.ts';
import { makeSandbox, type Sandbox } from '../conformance/cases.ts';
import { ENGINES, type ConformanceEngine } from '../conformance/engines.ts';
import { grantsForManifest, type GrantsOverrides } from '../helpers/grants.ts';
import { requireExternal } from '../helpers/require.ts';
import { baseColumn, COLUMN_ENGINE, COLUMNS, type Column } from './matrix.ts';

export function engineOf(column: Column): ConformanceEngine {
  const e = ENGINES.find((x) => x.id === COLUMN_ENGINE[column].conformance);
  if (e === undefined) throw new Error(`no engine for column ${column}`);
  return e;
}

/** Which fixture a column runs for a cell: a wasm fixture on worker/wasmtime, a Node or Python one in Docker. */
export interface Fixtures {
  wasm: string;
  /** Default conformance-node. */
  node?: string;
  /** Default conformance-python. */
  python?: string;
}

export function fixtureFor(column: Column, f: Fixtures): string {
  const base = baseColumn(column);
  if (base === 'docker-node') return f.node ?? 'conformance-node';
  if (base === 'docker-python') return f.python ?? 'conformance-python';
  return f.wasm;
}

/** Grants for a fixture folder, with overrides (the plugin fields come from its manifest). */
export function grantsForFixture(fixture: string, o: GrantsOverrides = {}): Grants {
  return grantsForManifest(loadPlugin(join(FIXTURES_DIR, fixture)), o);
}

export interface CellEnv {
  column: Column;
  /** A fresh sandbox folder (see test/conformance/cases.ts), removed after the test. */
  sandbox: Sandbox;
  /** Loads the column's fixture with `grants`; closed after the test. */
  load(f: Fixtures, grants?: GrantsOverrides): Promise<EnginePlugin>;
}

export type CellFn = (t: ExecutionContext, env: CellEnv) => Promise<void>;

const unavailable = new Map<ConformanceEngine['id'], string | undefined>();
for (const e of ENGINES) unavailable.set(e.id, await e.unavailable());
test.after.always(() => Promise.all(ENGINES.map((e) => e.close())));

const gate = new Map<Column, boolean>();
/** Whether a column's tests run here (skips loudly, or fails under AIRLOCK_REQUIRE_<X>=1, like the conformance suite). */
export function columnRuns(column: Column): boolean {
  let run = gate.get(column);
  if (run === undefined) {
    const e = engineOf(column);
    const why = unavailable.get(e.id);
    run = e.external === undefined ? why === undefined : requireExternal(e.external, why === undefined, why ?? '');
    // Each external engine is reported once, not once per Docker column.
    for (const c of COLUMNS) if (COLUMN_ENGINE[c].engine === e.name) gate.set(c, run);
  }
  return run;
}

/** Registers one cell's test: serial (2 shared cores; hostile plugins are heavy), with its sandbox and plugins cleaned up. */
export function cellTest(title: string, column: Column, fn: CellFn): void {
  (columnRuns(column) ? test.serial : test.skip)(title, async (t) => {
    const sandbox = makeSandbox({ host: '127.0.0.1', port: 9, requests: [] });
    const loaded: EnginePlugin[] = [];
    try {
      await fn(t, {
        column,
        sandbox,
        load: async (f, grants = {}) => {
          const p = await engineOf(column).load(grantsForFixture(fixtureFor(column, f), grants));
          loaded.push(p);
          return p;
        },
      });
    } finally {
      await Promise.all(loaded.map((p) => p.close()));
      rmSync(sandbox.root, { recursive: true, force: true });
    }
  });
}
