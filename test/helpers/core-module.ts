/** C plugin code (wit/c/airlock_tools.h) compiled to a WASI preview1 core module, a reactor: an entry `airlock build` wraps. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';

export function compileCoreModule(source: string, out: string): void {
  execFileSync('clang', ['--target=wasm32-wasi', '--sysroot=/usr', '-O2', '-mexec-model=reactor', `-I${join(FIXTURES_DIR, '../../wit/c')}`, '-o', out, source]);
}
