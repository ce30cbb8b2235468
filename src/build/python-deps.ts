/**
 * A Python component's dependencies (requirements.txt, or pyproject.toml's
 * [project].dependencies, or the file `build.dependencies` names), installed
 * at build time into a folder componentize-py adds to the component's path.
 *
 * Two sandboxed steps (./sandbox.ts), with componentize-py's own Python:
 * 1. runtimes/python/requirements.py (the Docker engine's, one mechanism)
 *    reduces the file to plain requirements: no pip options (`-r`, `-e`,
 *    `--index-url`, `--find-links` could read other files or undo the rules
 *    below), no direct URLs or paths. No network.
 * 2. `pip install --only-binary=:all: --target`: wheels only, so no sdist's
 *    setup.py or build backend runs (pip runs no plugin-chosen code: it
 *    downloads, checks and unpacks); tagged for the component's CPython and
 *    `any` or WASI platforms, so a native extension is refused before it is
 *    downloaded. This step has the host's network (pip downloads) and nothing
 *    else of the host: no home, no pip.conf, no files but its Python and the
 *    index settings below.
 * The index is the host's choice, never the plugin's (a plugin-chosen URL
 * would be fetched from the host's network): the PIP_* settings in Airlock's
 * environment (PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS with its
 * local folders mounted read-only, PIP_NO_INDEX, PIP_TRUSTED_HOST, PIP_CERT)
 * and the proxy variables reach pip; nothing else does.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AirlockError, isAirlockError } from '../errors.ts';
import { readPluginFile } from '../plugin-files/index.ts';
import { runSandboxed, StepFailed } from './sandbox.ts';

const REQUIREMENTS_PY = fileURLToPath(new URL('../../runtimes/python/requirements.py', import.meta.url));

/** The CPython componentize-py 0.25 links into a component: the wheels' tags and the markers are for it. */
export const COMPONENT_PYTHON = '3.14';

/** Environment variables that reach pip: where packages come from (the host's settings) and how to get there. */
const PIP_SETTINGS = [
  'PIP_INDEX_URL',
  'PIP_EXTRA_INDEX_URL',
  'PIP_FIND_LINKS',
  'PIP_NO_INDEX',
  'PIP_TRUSTED_HOST',
  'PIP_CERT',
  'PIP_DEFAULT_TIMEOUT',
  'PIP_RETRIES',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
];

/** The reduced list the host reads back (its size is the step's to choose): a component's imports, not an environment. */
export const MAX_REQUIREMENTS_BYTES = 1024 * 1024;

const DOCKER_HINT = 'use a pure-Python package, or run the plugin on Docker (`runtime: python`, which installs any wheel for Linux)';

export interface PythonDepsInput {
  /** The plugin folder (for messages) and its copy the steps read. */
  dir: string;
  src: string;
  /** The build's work folder (the steps write under it). */
  work: string;
  /** componentize-py's Python and the prefixes it needs. */
  python: string;
  prefixes: string[];
  /** `build.dependencies` from plugin.yaml, if set. */
  dependencies: string | undefined;
  env: NodeJS.ProcessEnv;
}

/** The dependency file a Python component installs from, relative to the plugin folder; undefined when there is none. */
export function pythonDependencyFile(src: string, dependencies: string | undefined): string | undefined {
  if (dependencies !== undefined) return dependencies;
  return ['requirements.txt', 'pyproject.toml'].find((f) => existsSync(join(src, f)));
}

function failed(file: string, message: string, fix: string, cause?: unknown): never {
  throw new AirlockError('build-failed', `${file}: ${message}; ${fix}`, { cause, details: { file } });
}

/**
 * Installs the dependencies; returns the folder to add to the component's Python path, or undefined when
 * the plugin has none (no dependency file, or one that lists nothing).
 */
export async function installPythonDeps(o: PythonDepsInput): Promise<string | undefined> {
  const file = pythonDependencyFile(o.src, o.dependencies);
  if (file === undefined) return undefined;
  const shown = join(o.dir, file);
  if (!existsSync(join(o.src, file)))
    failed(shown, 'the dependency file named by build.dependencies does not exist', 'fix `build.dependencies` in plugin.yaml');
  const deps = join(o.work, 'deps');
  await mkdir(deps);
  const reqs = join(deps, 'requirements.txt');
  try {
    await runSandboxed(
      o.python,
      [REQUIREMENTS_PY, join(o.src, file), reqs, file],
      { readOnly: [...o.prefixes, dirname(REQUIREMENTS_PY), o.src], writable: [deps], cwd: o.src },
      shown,
      { env: o.env },
    );
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
    failed(shown, (/airlock: (.*)/.exec(e.stderr)?.[1] ?? e.message).trim(), 'edit the dependency file', e);
  }
  let listed: string;
  try {
    listed = (await readPluginFile(deps, 'requirements.txt', { code: 'build-failed', maxBytes: MAX_REQUIREMENTS_BYTES })).toString('utf8');
  } catch (e) {
    if (isAirlockError(e) && e.details.reason === 'size')
      failed(shown, `it lists more than ${MAX_REQUIREMENTS_BYTES / 1024 / 1024} MiB of requirements`, 'list the packages the plugin imports', e);
    throw e;
  }
  if (listed.trim() === '') return undefined;

  const site = join(o.work, 'site');
  await mkdir(site);
  const setenv: Record<string, string> = { PIP_CONFIG_FILE: '/dev/null', PYTHONDONTWRITEBYTECODE: '1' };
  for (const name of PIP_SETTINGS) {
    const v = o.env[name];
    if (v !== undefined && v !== '') setenv[name] = v;
  }
  // Local folders and files the settings name, visible read-only (a URL needs nothing).
  const local = [...(setenv.PIP_FIND_LINKS ?? '').split(/\s+/), setenv.PIP_CERT ?? '']
    .map((p) => (p.startsWith('file://') ? fileURLToPath(p) : p))
    .filter((p) => isAbsolute(p))
    .map((p) => resolve(p));
  const args = [
    '-m',
    'pip',
    'install',
    '--only-binary=:all:',
    '--no-cache-dir',
    '--disable-pip-version-check',
    '--no-warn-script-location',
    '--no-compile',
    '--target',
    site,
    '--python-version',
    COMPONENT_PYTHON,
    '--implementation',
    'cp',
    '--platform',
    'any',
    '--platform',
    'wasi_0_0_0_wasm32',
    '--abi',
    'none',
    '--abi',
    'abi3',
    '--abi',
    `cp${COMPONENT_PYTHON.replace('.', '')}`,
    '-r',
    reqs,
  ];
  try {
    await runSandboxed(
      o.python,
      args,
      { readOnly: [...o.prefixes, deps, '/etc/resolv.conf', '/etc/hosts', ...local], writable: [site], cwd: deps, network: true },
      shown,
      { env: o.env, setenv },
    );
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
    const missing = /No matching distribution found for (\S+)/.exec(e.stderr)?.[1];
    if (missing !== undefined)
      failed(
        shown,
        `no wheel of ${missing} that runs in a WebAssembly component (pure Python, or built for WASI) on the package index; packages with native extensions cannot load there`,
        DOCKER_HINT,
        e,
      );
    failed(
      shown,
      `installing the dependencies failed:\n${e.message}`,
      'check the package names and versions, and the index (PIP_INDEX_URL, PIP_FIND_LINKS)',
      e,
    );
  }
  return site;
}
