/**
 * Builds the engine's own test guest (guest.c, a hand-written canonical-ABI
 * export of airlock:plugin/tools) into a component with Debian's clang +
 * wasi-libc and the preview1 reactor adapter. Cached by source hash in
 * cacheDir('test-guest'); returns the component path.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../../../../src/paths.ts';

const here = dirname(fileURLToPath(import.meta.url));

export async function buildTestGuest(): Promise<string> {
  const source = readFileSync(join(here, 'guest.c'));
  const wit = readFileSync(join(here, 'wit', 'airlock-plugin.wit'), 'utf8');
  const key = createHash('sha256').update(source).update(wit).digest('hex').slice(0, 16);
  const dir = cacheDir('test-guest');
  const out = join(dir, `guest-${key}.wasm`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const core = join(dir, `guest-${key}.core.wasm`);
  execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-mexec-model=reactor', '-Wl,--strip-all', '-o', core, join(here, 'guest.c')], { stdio: 'inherit' });
  const { componentEmbed, componentNew } = await import('@bytecodealliance/jco-transpile/wasm-tools' as string) as {
    componentEmbed(o: { binary: Uint8Array; witSource: string; world: string }): Promise<Uint8Array>;
    componentNew(b: Uint8Array, adapters: [string, Uint8Array][]): Promise<Uint8Array>;
  };
  const embedded = await componentEmbed({ binary: readFileSync(core), witSource: wit, world: 'plugin' });
  const adapter = readFileSync(join(here, '..', '..', '..', '..', 'node_modules', '@bytecodealliance', 'jco', 'lib', 'wasi_snapshot_preview1.reactor.wasm'));
  const component = await componentNew(embedded, [['wasi_snapshot_preview1', adapter]]);
  writeFileSync(`${out}.tmp`, component);
  renameSync(`${out}.tmp`, out);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await buildTestGuest());
