/** What the figures were measured on: the machine, how busy it was, and every version that matters. */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { probeDocker } from '../engines/probe.ts';
import { probeWasmtime } from '../engines/wasmtime/index.ts';

export interface Machine {
  cpu: string;
  cores: number;
  memoryBytes: number;
  os: string;
  kernel: string;
  arch: string;
  /** 1, 5 and 15-minute load averages. */
  loadBefore: number[];
  loadAfter?: number[];
}

export function describeMachine(): Machine {
  let os = `${platform()} ${release()}`;
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m?.[1] !== undefined) os = m[1];
  } catch {
    // not Linux: platform and release say enough
  }
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    os,
    kernel: release(),
    arch: arch(),
    loadBefore: loadavg(),
  };
}

/** The version in a package's package.json, found from its entry (some packages do not export package.json). */
function packageVersion(name: string): string | undefined {
  try {
    let dir = dirname(fileURLToPath(import.meta.resolve(name)));
    for (;;) {
      const f = join(dir, 'package.json');
      if (existsSync(f)) {
        const pkg = JSON.parse(readFileSync(f, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version;
      }
      const up = dirname(dir);
      if (up === dir) return undefined;
      dir = up;
    }
  } catch {
    return undefined;
  }
}

export type Versions = Record<string, string | undefined>;

export async function collectVersions(): Promise<Versions> {
  const airlock = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  const [wasmtime, docker, componentizePy] = await Promise.all([
    probeWasmtime(),
    probeDocker(),
    promisify(execFile)('componentize-py', ['--version']).then(
      (r) => r.stdout.trim(),
      () => undefined,
    ),
  ]);
  return {
    node: process.versions.node,
    v8: process.versions.v8,
    airlock,
    wasmtime: wasmtime.version,
    docker: docker.version,
    jco: packageVersion('@bytecodealliance/jco'),
    'jco-transpile': packageVersion('@bytecodealliance/jco-transpile'),
    'preview2-shim': packageVersion('@bytecodealliance/preview2-shim'),
    'componentize-js': packageVersion('@bytecodealliance/componentize-js'),
    'componentize-py': componentizePy,
    node_image: process.env.AIRLOCK_NODE_IMAGE,
    python_image: process.env.AIRLOCK_PYTHON_IMAGE,
  };
}
