/**
 * A Rust plugin (a cargo package beside plugin.yaml whose entry is a `.rs`
 * file, made by `airlock init --template rust`: wit-bindgen, a cdylib) built
 * for wasm32-wasip2, which links a component directly.
 *
 * Two sandboxed steps (./sandbox.ts), both from a copy of the folder without
 * `target/`, `.cargo/` (a config there could name programs cargo runs:
 * credential providers, wrappers, runners) and `rust-toolchain*` (rustup
 * would switch or download toolchains):
 * 0. `cargo metadata --no-deps`, offline: every dependency must come from
 *    crates.io (checkSources).
 * 1. `cargo vendor`: the crates Cargo.lock names (resolved, and the lock
 *    written into the copy, when it has none) downloaded into the build's own
 *    folder. Cargo runs no build script or proc macro here, and no program
 *    the plugin names (no config of its own is read), so this step alone has
 *    the host's network; its registry cache is Airlock's own CARGO_HOME
 *    (cacheDir('cargo-home')), shared by builds and never seen by step 2.
 * 2. `cargo build --offline` from the vendored sources: build scripts and
 *    proc macros (plugin-chosen code) run here, with no network, an empty
 *    CARGO_HOME in the sandbox's /tmp and a target folder of this build only,
 *    so nothing one plugin's build writes reaches another's.
 * The toolchain is rustup's (or any) `rustc` on PATH, resolved to its
 * sysroot, which the steps see read-only; it needs the wasm32-wasip2 target.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { AirlockError } from '../errors.ts';
import { cacheDir } from '../paths.ts';
import { parse as parseToml } from 'smol-toml';
import { copyPluginTree, listFolder, readPluginFile } from '../plugin-files/index.ts';
import { runSandboxed, StepFailed } from './sandbox.ts';

const run = promisify(execFile);

export const RUST_TARGET = 'wasm32-wasip2';
const TARGET_HINT = `install Rust (https://rustup.rs) and its WebAssembly target: rustup target add ${RUST_TARGET}`;

/** Folders and files of a Rust plugin left out of its content hash and its build copy (see above). */
export function rustIgnored(rel: string): boolean {
  return rel === 'target' || rel === '.cargo' || rel === 'rust-toolchain' || rel === 'rust-toolchain.toml';
}

/** Host settings cargo's download step gets (how to reach crates.io), never the plugin's. */
const CARGO_SETTINGS = /^(CARGO_HTTP_[A-Z_]+|CARGO_NET_[A-Z_]+|CARGO_REGISTRIES_CRATES_IO_PROTOCOL|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy)$/;

export interface RustToolchain {
  sysroot: string;
  version: string;
  /** The wasm32-wasip2 standard library is installed. */
  hasTarget: boolean;
}

/** By PATH; a missing toolchain is looked for again next time. */
const found = new Map<string, RustToolchain>();
export async function findRustToolchain(env: NodeJS.ProcessEnv): Promise<RustToolchain | undefined> {
  const key = env.PATH ?? '';
  const known = found.get(key);
  if (known !== undefined) return known;
  // From a neutral folder: a rust-toolchain.toml in the working folder would steer rustup.
  const opts = { env, cwd: tmpdir(), timeout: 60_000 };
  const sysroot = (await run('rustc', ['--print', 'sysroot'], opts).catch(() => undefined))?.stdout.trim();
  if (sysroot === undefined || sysroot === '') return undefined;
  const version = (await run(join(sysroot, 'bin', 'rustc'), ['--version'], opts).catch(() => undefined))?.stdout.trim();
  if (version === undefined || !existsSync(join(sysroot, 'bin', 'cargo'))) return undefined;
  const tc = { sysroot, version, hasTarget: existsSync(join(sysroot, 'lib', 'rustlib', RUST_TARGET)) };
  found.set(key, tc);
  return tc;
}

function failed(file: string, message: string, fix: string, cause?: unknown): never {
  throw new AirlockError('build-failed', `${file}: ${message}; ${fix}`, { cause, details: { file } });
}

const CRATES_IO = 'registry+https://github.com/rust-lang/crates.io-index';
/** Entries of cargo's output folder: a handful (build/, deps/, the .wasm and its .d); a build script may add more, up to this. */
const MAX_OUTPUT_ENTRIES = 1000;
/** A Cargo.toml is a page of text. */
const MAX_CARGO_TOML_BYTES = 64 * 1024;

/**
 * Refuses, before anything is downloaded, a crate that would come from anywhere but crates.io (a git
 * repository, another registry's index, a [patch] or [replace]): the download step has the host's network,
 * so a plugin-chosen URL there would be a request from the host to wherever the plugin likes. Crates on
 * crates.io can only depend on crates.io, so the plugin's own manifests are all there is to check
 * (`cargo metadata --no-deps`, offline, in the sandbox; path dependencies outside the folder are not in it).
 */
async function checkSources(cargo: string, bin: string, sysroot: string, src: string, dir: string, what: string, env: NodeJS.ProcessEnv): Promise<void> {
  let text: string;
  try {
    text = await runSandboxed(
      cargo,
      ['metadata', '--no-deps', '--offline', '--format-version', '1', '--manifest-path', join(src, 'Cargo.toml')],
      { readOnly: [sysroot, src], writable: [], cwd: src },
      what,
      { env, setenv: { CARGO_HOME: '/tmp/cargo-home', PATH: `${bin}:/usr/bin:/bin`, CARGO_TERM_COLOR: 'never' } },
    );
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
    failed(join(dir, 'Cargo.toml'), `cargo cannot read it:\n${e.message}`, 'fix Cargo.toml', e);
  }
  const shown = (path: string): string => (path.startsWith(`${src}/`) ? join(dir, path.slice(src.length + 1)) : path);
  let meta: { packages: { manifest_path: string; dependencies: { name: string; source: string | null }[] }[] };
  try {
    meta = JSON.parse(text) as typeof meta;
  } catch (e) {
    failed(join(dir, 'Cargo.toml'), 'cargo metadata is too large to read', 'keep the plugin to one package or a small workspace', e);
  }
  const manifests = new Set([join(src, 'Cargo.toml')]);
  for (const pkg of meta.packages) {
    manifests.add(pkg.manifest_path);
    for (const d of pkg.dependencies) {
      if (d.source !== null && d.source !== CRATES_IO)
        failed(
          shown(pkg.manifest_path),
          `dependency ${d.name} comes from ${d.source}`,
          'use crates from crates.io (the build downloads from there only), or copy the crate into the plugin folder as a path dependency',
        );
    }
  }
  for (const m of manifests) {
    if (!m.startsWith(`${src}/`)) continue;
    const toml = (await readPluginFile(src, m.slice(src.length + 1), { code: 'build-failed', maxBytes: MAX_CARGO_TOML_BYTES })).toString('utf8');
    // Parsed, not matched: TOML also spells a table as a dotted key (`patch.crates-io.x.git = …`) or a quoted
    // name (`["replace"]`), and cargo metadata --no-deps does not show either, while `cargo vendor` would fetch it.
    let doc: Record<string, unknown>;
    try {
      doc = parseToml(toml);
    } catch (e) {
      failed(shown(m), `it is not valid TOML: ${(e as Error).message.split('\n')[0]}`, 'fix its syntax', e);
    }
    const table = ['patch', 'replace'].find((k) => Object.hasOwn(doc, k));
    if (table !== undefined)
      failed(
        shown(m),
        `a [${table}] table`,
        'remove it: the build downloads crates.io crates only (copy a patched crate into the plugin folder as a path dependency)',
      );
  }
}

/** Builds the cargo package at `dir` in `work`; returns the path of the component it linked (in `work`). */
export async function buildRust(dir: string, entry: string, work: string, env: NodeJS.ProcessEnv): Promise<string> {
  const what = join(dir, entry);
  if (!existsSync(join(dir, 'Cargo.toml'))) failed(what, 'a Rust entry needs its Cargo.toml beside plugin.yaml', 'run `airlock init --template rust` for one');
  const tc = await findRustToolchain(env);
  if (tc === undefined) failed(what, 'Rust (rustc and cargo) is not installed', TARGET_HINT);
  if (!tc.hasTarget) failed(what, `the Rust target ${RUST_TARGET} is not installed (${tc.version})`, `rustup target add ${RUST_TARGET}`);
  const bin = join(tc.sysroot, 'bin');
  const cargo = join(bin, 'cargo');

  const src = join(work, 'src');
  await copyPluginTree(dir, src, { code: 'build-failed', ignore: (rel) => rustIgnored(rel) || basename(rel) === '.git' });
  await checkSources(cargo, bin, tc.sysroot, src, dir, what, env);
  const vendor = join(work, 'vendor');
  const home = cacheDir('cargo-home');
  await mkdir(home, { recursive: true });
  const netenv: Record<string, string> = { CARGO_HOME: home, PATH: `${bin}:/usr/bin:/bin` };
  for (const [k, v] of Object.entries(env)) if (CARGO_SETTINGS.test(k) && v !== undefined && v !== '') netenv[k] = v;
  try {
    await runSandboxed(
      cargo,
      ['vendor', '--quiet', '--versioned-dirs', '--manifest-path', join(src, 'Cargo.toml'), vendor],
      { readOnly: [tc.sysroot, '/etc/resolv.conf', '/etc/hosts', '/etc/ssl'], writable: [src, work, home], cwd: work, network: true },
      what,
      { env, setenv: netenv },
    );
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
    failed(what, `fetching the crates failed:\n${e.message}`, 'check Cargo.toml (crates.io dependencies, or path dependencies inside the plugin folder)', e);
  }
  const config = join(work, 'vendored.toml');
  await writeFile(config, `[source.crates-io]\nreplace-with = "vendored"\n\n[source.vendored]\ndirectory = ${JSON.stringify(vendor)}\n`);

  const target = join(work, 'target');
  await mkdir(target);
  try {
    await runSandboxed(
      cargo,
      ['build', '--release', '--offline', '--target', RUST_TARGET, '--manifest-path', join(src, 'Cargo.toml'), '--config', config, '--target-dir', target],
      // /etc/alternatives: Debian's cc (build scripts and proc macros are linked for the host) is a link through it.
      { readOnly: [tc.sysroot, vendor, config, '/etc/alternatives'], writable: [src, target], cwd: src },
      what,
      { env, setenv: { CARGO_HOME: '/tmp/cargo-home', RUSTC: join(bin, 'rustc'), PATH: `${bin}:/usr/bin:/bin`, CARGO_TERM_COLOR: 'never' } },
    );
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
    failed(what, `cargo build failed:\n${e.message}`, 'fix the errors above (`cargo build --target wasm32-wasip2` shows them too)', e);
  }
  const out = join(target, RUST_TARGET, 'release');
  // The build script (plugin code) can write here: listed in batches and bounded, never whole.
  let listed = 0;
  const names = await listFolder(out, () => {
    if (++listed > MAX_OUTPUT_ENTRIES)
      failed(out, `cargo's output folder holds more than ${MAX_OUTPUT_ENTRIES} entries`, 'keep the build script from writing files beside the build output');
  });
  const wasm = names.map((e) => e.name).filter((f) => f.endsWith('.wasm'));
  if (wasm.length !== 1)
    failed(
      what,
      `cargo built ${wasm.length === 0 ? 'no' : `${wasm.length}`} .wasm files`,
      'build one library with `crate-type = ["cdylib"]` (see the rust template)',
    );
  return join(out, wasm[0]!);
}
