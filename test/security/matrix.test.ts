/**
 * The attack matrix cannot claim a cell nobody tests: every cell of
 * ./matrix.ts is checked against the tests that prove it (without running
 * them; they run in their own files), and the README table is the one
 * rendered from the definition.
 */
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { loadPlugin } from '../../src/manifest/index.ts';
import { CASES } from '../conformance/cases.ts';
import { ENGINES as CONFORMANCE_ENGINES, runsFixture } from '../conformance/engines.ts';
import { limitationFor } from '../conformance/limitations.ts';
import { envCells } from './cells/env.ts';
import { fsCells } from './cells/fs.ts';
import { hostCells } from './cells/host.ts';
import { netCells } from './cells/net.ts';
import { protoCells } from './cells/proto.ts';
import { resCells } from './cells/res.ts';
import { ENGINES } from '../../src/engines/registry.ts';
import { BASE_COLUMNS, baseColumn, COLUMN_ENGINE, COLUMNS, DERIVED, GROUPS, ROWS, cellTitle, isDerived, type Column, type Group } from './matrix.ts';
import type { CellImpls } from './register.ts';
import { README, renderMatrix, withMatrix } from './render.ts';

const ROOT = join(import.meta.dirname, '../..');
const r = (id: string) => ROWS.find((x) => x.id === id) ?? ROWS[0]!;
const IMPLS: Partial<Record<Group, CellImpls>> = { fs: fsCells, env: envCells, net: netCells, res: resCells, host: hostCells, proto: protoCells };

/**
 * The fixture a conformance case runs on a column: its wasm fixture, or the conformance fixture of the column's
 * runtime (Docker, remote Docker, Kubernetes), when the suite runs that case on the column's engine.
 */
function conformanceFixture(caseName: string, column: Column): string | undefined {
  const c = CASES.find((x) => x.name === caseName);
  const engine = CONFORMANCE_ENGINES.find((e) => e.id === COLUMN_ENGINE[column].conformance);
  if (c === undefined || engine === undefined) return undefined;
  const runtime = COLUMN_ENGINE[column].runtime;
  const f = runtime === undefined ? c.fixtures.find((x) => loadPlugin(join(FIXTURES_DIR, x)).runtime === 'wasm') : `conformance-${runtime}`;
  if (f === undefined || !c.fixtures.includes(f)) return undefined;
  const m = loadPlugin(join(FIXTURES_DIR, f));
  return runsFixture(engine, m.runtime, m.manifest.wasm !== undefined) ? f : undefined;
}

test('every row has a unique id, a known group and a cell in every column', (t) => {
  t.is(new Set(ROWS.map((r) => r.id)).size, ROWS.length);
  for (const r of ROWS) {
    t.true(r.group in GROUPS, r.id);
    t.true(r.id.startsWith(`${r.group}.`), `${r.id} is named after its group`);
    t.deepEqual(Object.keys(r.cells).sort(), [...COLUMNS].sort(), r.id);
  }
  for (const g of Object.keys(GROUPS))
    t.true(
      ROWS.some((r) => r.group === g),
      `group ${g} has rows`,
    );
});

test('every contained cell and every limitation is proved by a test; every n/a gives its reason', (t) => {
  for (const r of ROWS) {
    for (const col of COLUMNS) {
      const { outcome, proofs } = r.cells[col];
      const at = `${r.id} × ${col}`;
      if (outcome.kind === 'na') t.true(outcome.reason.length > 20, `${at}: n/a explains itself`);
      else t.true(proofs.length > 0, `${at}: ${outcome.kind} without a test`);
      if (outcome.kind === 'limitation') {
        t.true(outcome.reason.length > 20, `${at}: reason`);
        for (const k of ['title', 'impact', 'reproduction', 'fix'] as const) t.true(outcome.issue[k].length > 10, `${at}: issue ${k}`);
      }
    }
  }
});

test('file proofs name test files whose titles contain the given text', (t) => {
  const texts = new Map<string, string>();
  for (const r of ROWS) {
    for (const col of COLUMNS) {
      for (const p of r.cells[col].proofs) {
        if (!('file' in p)) continue;
        const path = join(ROOT, p.file);
        if (!existsSync(path)) {
          t.fail(`${r.id} × ${col}: ${p.file} does not exist`);
          continue;
        }
        if (!texts.has(path)) texts.set(path, readFileSync(path, 'utf8'));
        const text = texts.get(path) ?? '';
        t.true(p.file.endsWith('.test.ts'), `${p.file} is a test file`);
        t.true(text.includes(p.title), `${r.id} × ${col}: no test in ${p.file} has a title containing "${p.title}"`);
      }
    }
  }
});

test('conformance proofs name cases that run on the column, and a documented conformance limitation shows in the cell', (t) => {
  for (const r of ROWS) {
    for (const col of COLUMNS) {
      const cell = r.cells[col];
      for (const p of cell.proofs) {
        if (!('conformance' in p)) continue;
        const at = `${r.id} × ${col}`;
        const fixture = conformanceFixture(p.conformance, col);
        if (fixture === undefined) {
          t.fail(`${at}: conformance case "${p.conformance}" does not exist or does not run on ${col}`);
          continue;
        }
        const lim = limitationFor(COLUMN_ENGINE[col].conformance, p.conformance, fixture);
        if (lim === undefined) continue;
        // The engine does something else than the case's expectation there: the cell must say so.
        if ('load' in lim.instead) {
          t.true(
            cell.outcome.kind === 'na' || (cell.outcome.kind === 'contained' && cell.outcome.code === lim.instead.load) || cell.outcome.kind === 'limitation',
            `${at}: the engine refuses to load (${lim.instead.load}); the cell must show that`,
          );
        } else {
          t.true(
            cell.outcome.kind !== 'contained' || cell.outcome.note !== undefined,
            `${at}: conformance documents a limitation ("${lim.reason.slice(0, 80)}..."); the cell needs a note`,
          );
        }
      }
    }
  }
});

test('matrix proofs are implemented by exactly the cell tests of their group, and each group registers them', (t) => {
  for (const [group] of Object.entries(GROUPS) as [Group, string][]) {
    const wanted = ROWS.filter((r) => r.group === group).flatMap((r) =>
      COLUMNS.filter((c) => r.cells[c].proofs.some((p) => 'matrix' in p)).map((c) => `${r.id} × ${c}`),
    );
    const impls = IMPLS[group] ?? {};
    // A derived column runs its base column's cell test (test/security/register.ts), unless it has its own.
    const have = Object.entries(impls).flatMap(([id, byCol]) =>
      COLUMNS.filter(
        (c) => byCol[c] !== undefined || (isDerived(c) && byCol[baseColumn(c)] !== undefined && r(id).cells[c].proofs.some((p) => 'matrix' in p)),
      ).map((c) => `${id} × ${c}`),
    );
    t.deepEqual(have.sort(), wanted.sort(), `test/security/cells/${group}.ts implements exactly the matrix cells of ${group}`);
    if (wanted.length > 0) {
      const file = join(import.meta.dirname, `${group}.test.ts`);
      t.true(
        existsSync(file) && readFileSync(file, 'utf8').includes(`registerCells('${group}'`),
        `test/security/${group}.test.ts registers the ${group} cells`,
      );
    }
  }
  // Titles name the cell, so a failure points at its row and column.
  t.is(cellTitle(ROWS.find((r) => r.id === 'fs.hardlink')!, 'docker-python'), 'matrix fs.hardlink × docker-python: contained (errno)');
});

test('the README shows the matrix rendered from test/security/matrix.ts (run `node test/security/render.ts`)', (t) => {
  const readme = readFileSync(README, 'utf8');
  t.is(readme, withMatrix(readme, renderMatrix()), 'README.md is stale: run `node test/security/render.ts`');
});

test('the columns are the registry: one per component engine, one per runtime of a source engine, nothing else', (t) => {
  const expected = ENGINES.flatMap((e) => (e.artefact === 'component' ? [e.name] : e.runtimes.map((r) => `${e.name}/${r}`))).sort();
  const columns = BASE_COLUMNS.map((c) => {
    const { engine, runtime } = COLUMN_ENGINE[c];
    return runtime === undefined ? engine : `${engine}/${runtime}`;
  }).sort();
  t.deepEqual(columns, expected);
  // A derived column runs its base column's engine and runtime, elsewhere.
  for (const [c, d] of Object.entries(DERIVED)) {
    const { engine, runtime } = COLUMN_ENGINE[c as Column];
    t.deepEqual({ engine, runtime }, { engine: COLUMN_ENGINE[d.base].engine, runtime: COLUMN_ENGINE[d.base].runtime }, c);
  }
});

test('the Kubernetes columns: the conformance suite runs on the test cluster, no matrix cell test does yet', (t) => {
  // The suite drives the Kubernetes engine on the test cluster (required in CI, AIRLOCK_REQUIRE_CLUSTER=1) ...
  const k8s = CONFORMANCE_ENGINES.find((e) => e.id === 'kubernetes');
  t.like(k8s, { name: 'kubernetes', external: 'cluster', runtimes: ['node', 'python'] });
  // ... no cell test implements a Kubernetes column ...
  const k8sColumns = COLUMNS.filter((c) => COLUMN_ENGINE[c].engine === 'kubernetes');
  t.deepEqual(k8sColumns, ['kubernetes-node', 'kubernetes-python']);
  for (const [group, impls] of Object.entries(IMPLS))
    for (const [id, byCol] of Object.entries(impls ?? {}))
      t.deepEqual(
        k8sColumns.filter((c) => byCol[c] !== undefined),
        [],
        `${group}/${id}: a Kubernetes cell test exists; its cell is no longer "not run on the Kubernetes engine yet"`,
      );
  // ... so a cell left "not run" is one whose Docker cell no conformance case proves (those ran on the cluster).
  for (const r of ROWS)
    for (const col of k8sColumns) {
      const { outcome } = r.cells[col];
      const docker = r.cells[col === 'kubernetes-node' ? 'docker-node' : 'docker-python'];
      if (outcome.kind === 'limitation' && outcome.reason.startsWith('not run on the Kubernetes engine yet'))
        t.deepEqual(
          docker.proofs.filter((p) => 'conformance' in p),
          [],
          `${r.id} × ${col}: Docker's cell has conformance proofs, which run on the cluster`,
        );
    }
});
