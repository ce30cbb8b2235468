/**
 * Finding the wasmtime CLI: `$AIRLOCK_WASMTIME` (path to the binary), else
 * `wasmtime` on PATH, else the copy `.ci/install-wasmtime.sh` builds into
 * the cache. The probe reports the version so `airlock doctor` can show it.
 */
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { cacheDir, cacheRoot } from '../../paths.ts';

/** The version `.ci/install-wasmtime.sh` installs and the tests run against. */
export const WASMTIME_VERSION = '48.0.8';

export const WASMTIME_INSTALL_HINT =
  `install the wasmtime CLI: \`.ci/install-wasmtime.sh\` (runs \`cargo install wasmtime-cli --version ${WASMTIME_VERSION} --locked\` into ` +
  // cacheRoot, not cacheDir: a module constant must not create or check the cache at import.
  `${join(cacheRoot(), `wasmtime-${WASMTIME_VERSION}`, 'bin', 'wasmtime')}, about 8 minutes on 2 cores), or put \`wasmtime\` on PATH, or set AIRLOCK_WASMTIME to its path`;

export function cachedWasmtimePath(): string {
  return cacheDir(`wasmtime-${WASMTIME_VERSION}`, 'bin', 'wasmtime');
}

export interface WasmtimeProbe {
  available: boolean;
  /** e.g. `48.0.8`; absent when not found. */
  version?: string;
  /** Absolute path of the binary that will be run. */
  path?: string;
  /** Where it came from. */
  source?: 'AIRLOCK_WASMTIME' | 'PATH' | 'cache';
  /** Why it is unavailable. */
  reason?: string;
  installHint: string;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The candidate binary, without running it. */
export async function findWasmtime(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ path: string; source: WasmtimeProbe['source'] } | { path?: undefined; reason: string }> {
  const forced = env.AIRLOCK_WASMTIME;
  if (forced !== undefined && forced !== '') {
    if (await isExecutable(forced)) return { path: forced, source: 'AIRLOCK_WASMTIME' };
    return { reason: `AIRLOCK_WASMTIME=${forced} is not an executable file` };
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'wasmtime');
    if (await isExecutable(candidate)) return { path: candidate, source: 'PATH' };
  }
  const cached = cachedWasmtimePath();
  if (await isExecutable(cached)) return { path: cached, source: 'cache' };
  return { reason: `no wasmtime binary: AIRLOCK_WASMTIME is unset, none on PATH, none at ${cached}` };
}

/** Runs `wasmtime --version` (bounded to 10 s) and parses `wasmtime 48.0.8 (…)`. */
export function wasmtimeVersion(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // node:child_process on first use: the registry (and so `import('airlock')`) loads this module (issue 21).
    process.getBuiltinModule('node:child_process').execFile(path, ['--version'], { timeout: 10_000, env: {}, maxBuffer: 64 * 1024 }, (err, stdout) => {
      if (err !== null) return reject(err);
      const m = /^wasmtime(?:-cli)? (\d+\.\d+\.\d+\S*)/m.exec(stdout);
      if (m?.[1] === undefined) return reject(new Error(`unexpected \`${path} --version\` output: ${JSON.stringify(stdout.slice(0, 200))}`));
      resolve(m[1]);
    });
  });
}

export async function probeWasmtime(env: NodeJS.ProcessEnv = process.env): Promise<WasmtimeProbe> {
  const found = await findWasmtime(env);
  if (found.path === undefined) return { available: false, reason: found.reason, installHint: WASMTIME_INSTALL_HINT };
  try {
    const version = await wasmtimeVersion(found.path);
    return { available: true, version, path: found.path, source: found.source, installHint: WASMTIME_INSTALL_HINT };
  } catch (err) {
    return {
      available: false,
      path: found.path,
      source: found.source,
      reason: `${found.path} --version failed: ${(err as Error).message}`,
      installHint: WASMTIME_INSTALL_HINT,
    };
  }
}
