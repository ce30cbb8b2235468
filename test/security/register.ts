/**
 * Registers a group's matrix cell tests: one serial test per cell whose
 * proof is `matrix`, titled by cellTitle() (`matrix <row> × <column>: ...`).
 * A `matrix` cell without an implementation is a failing test, and so is an
 * implementation for a cell the matrix does not list as `matrix`
 * (test/security/matrix.test.ts checks the same without running engines).
 */
import test from 'ava';
import type { CellFn } from './engines.ts';
import { cellTest } from './engines.ts';
import { COLUMNS, ROWS, baseColumn, cellTitle, type Column, type Group } from './matrix.ts';

/** Cell implementations of one group: row id -> column -> test body. */
export type CellImpls = Record<string, Partial<Record<Column, CellFn>>>;

/** The cells of `group` the matrix says are proved by a matrix cell test. */
export function matrixCells(group: Group): { row: (typeof ROWS)[number]; column: Column }[] {
  return ROWS.filter((r) => r.group === group).flatMap((row) =>
    COLUMNS.filter((column) => row.cells[column].proofs.some((p) => 'matrix' in p)).map((column) => ({ row, column })),
  );
}

export function registerCells(group: Group, impls: CellImpls): void {
  const wanted = matrixCells(group);
  for (const { row, column } of wanted) {
    // A derived column (the Docker engine on a remote daemon) runs its base column's test on its own engine.
    const fn = impls[row.id]?.[column] ?? impls[row.id]?.[baseColumn(column)];
    if (fn === undefined)
      test(`${cellTitle(row, column)} [no test implements it]`, (t) => t.fail(`test/security/cells/${group}.ts has no test for ${row.id} × ${column}`));
    else cellTest(cellTitle(row, column), column, fn);
  }
  for (const [id, byColumn] of Object.entries(impls)) {
    for (const column of Object.keys(byColumn)) {
      if (!wanted.some((w) => w.row.id === id && w.column === column))
        test(`matrix ${id} × ${column} is implemented but not a matrix cell`, (t) =>
          t.fail(`add it to test/security/matrix.ts with a matrix proof, or remove it`));
    }
  }
}
