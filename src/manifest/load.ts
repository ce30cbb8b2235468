/**
 * Reading a plugin folder: plugin.yaml checked against the schema, the
 * runtime detected when the manifest leaves it out, and the files it names
 * checked to exist inside the folder. Every problem is reported at once.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AirlockError, type Problem } from '../errors.ts';
import { manifestSchema, type Manifest, type Runtime } from './schema.ts';
import { byPosition, checkYaml, type YamlSource } from './source.ts';

export const MANIFEST_FILE = 'plugin.yaml';

/** Largest plugin.yaml we read: a manifest is a page of text, not a data file. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

export interface LoadedManifest {
  manifest: Manifest;
  /** The runtime, from the manifest or detected. */
  runtime: Runtime;
  /** Why that runtime (for `airlock inspect`). */
  runtimeReason: string;
  /** Canonical plugin folder. */
  dir: string;
  /** Path of plugin.yaml. */
  file: string;
  /** Positions in plugin.yaml, for later errors (grants) that point at a field. */
  source: YamlSource;
}

export type ValidationResult = { ok: true; plugin: LoadedManifest } | { ok: false; file: string; problems: Problem[] };

/** `dir` may be a plugin folder or its plugin.yaml. */
export function validatePlugin(dirOrFile: string): ValidationResult {
  const given = resolve(dirOrFile);
  let file = given;
  try {
    if (statSync(given).isDirectory()) file = join(given, MANIFEST_FILE);
  } catch {
    return { ok: false, file: given, problems: [{ file: given, path: '', message: 'no such file or folder', hint: 'pass a plugin folder that contains plugin.yaml' }] };
  }
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_MANIFEST_BYTES) {
      return { ok: false, file, problems: [{ file, path: '', message: `is ${size} bytes; a manifest is at most ${MAX_MANIFEST_BYTES}`, hint: 'keep data out of plugin.yaml' }] };
    }
    text = readFileSync(file, 'utf8');
  } catch {
    return { ok: false, file, problems: [{ file, path: '', message: `cannot read ${basename(file)}`, hint: `create ${MANIFEST_FILE} in the plugin folder (\`airlock init <name>\` writes one)` }] };
  }
  return validateManifestText(file, text);
}

/** Checks manifest text that lives at `file` (its folder is the plugin folder). */
export function validateManifestText(file: string, text: string): ValidationResult {
  const checked = checkYaml(file, text, manifestSchema, MANIFEST_FILE);
  const dir = realpathOrSelf(dirname(file));
  if (!checked.ok) {
    // Schema problems do not hide file problems: report a missing entry in the same run.
    const raw = checked.data as { entry?: unknown; wasm?: unknown } | undefined;
    const more: Problem[] = [];
    if (typeof raw?.entry === 'string' && raw.entry !== '') more.push(...fileProblems(dir, file, checked.source, 'entry', raw.entry));
    if (typeof raw?.wasm === 'string' && raw.wasm !== '') more.push(...fileProblems(dir, file, checked.source, 'wasm', raw.wasm));
    const all = [...checked.problems, ...more].sort(byPosition);
    return { ok: false, file, problems: all };
  }
  const manifest = checked.value;
  const source = checked.source;
  const problems: Problem[] = [
    ...fileProblems(dir, file, source, 'entry', manifest.entry),
    ...(manifest.wasm === undefined ? [] : fileProblems(dir, file, source, 'wasm', manifest.wasm)),
  ];

  let runtime: Runtime | undefined = manifest.runtime;
  let runtimeReason = 'runtime set in plugin.yaml';
  if (runtime === undefined) {
    const detected = detectRuntime(dir, manifest.entry);
    if (typeof detected === 'string') {
      problems.push({ file, ...source.locateKey([], 'entry'), path: 'runtime', message: detected, hint: 'add `runtime: wasm`, `runtime: node` or `runtime: python`' });
    } else {
      runtime = detected.runtime;
      runtimeReason = `detected: ${detected.reason}`;
    }
  }
  if (problems.length > 0 || runtime === undefined) return { ok: false, file, problems };
  return { ok: true, plugin: { manifest, runtime, runtimeReason, dir, file, source } };
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** `entry`/`wasm` must name an existing file inside the plugin folder, also after symlinks. */
function fileProblems(dir: string, file: string, source: YamlSource, field: 'entry' | 'wasm', value: string): Problem[] {
  const at = source.locate([field]);
  const target = resolve(dir, value);
  const outside = (rel: string) => rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  if (outside(relative(dir, target))) {
    return [{ file, ...at, path: field, message: `"${value}" is outside the plugin folder`, hint: 'name a file inside the plugin folder, relative to plugin.yaml' }];
  }
  if (!existsSync(target)) {
    return [{ file, ...at, path: field, message: `file "${value}" not found in ${dir}`, hint: `create it, or fix \`${field}\` to name the file` }];
  }
  // A symlink inside the folder that points out of it would smuggle a host file into builds.
  const real = realpathSync(target);
  if (outside(relative(dir, real))) {
    return [{ file, ...at, path: field, message: `"${value}" resolves to ${real}, outside the plugin folder`, hint: 'replace the symlink with the file itself' }];
  }
  return [];
}

/** Like validatePlugin, but throws `invalid-manifest` with every problem. */
export function loadPlugin(dirOrFile: string): LoadedManifest {
  const result = validatePlugin(dirOrFile);
  if (result.ok) return result.plugin;
  throw invalidManifest(result.file, result.problems);
}

/** The error of a manifest with problems (loadPlugin and its off-thread twin). */
export function invalidManifest(file: string, problems: Problem[]): AirlockError {
  return new AirlockError('invalid-manifest', `${file}: ${problems.length} problem(s) in the plugin manifest`, { problems });
}

const ENTRY_RUNTIMES: Record<string, Runtime> = {
  '.wasm': 'wasm',
  '.js': 'node',
  '.mjs': 'node',
  '.cjs': 'node',
  '.py': 'python',
};

const MARKER_FILES: [string, Runtime][] = [
  ['package.json', 'node'],
  ['requirements.txt', 'python'],
  ['pyproject.toml', 'python'],
];

/**
 * The runtime of a manifest without `runtime:`. The entry's extension decides
 * when it is one we know (.wasm, .js/.mjs/.cjs, .py); otherwise the marker
 * files beside plugin.yaml decide, and must agree. Returns a message when it
 * cannot tell, naming what it found.
 */
export function detectRuntime(dir: string, entry: string): { runtime: Runtime; reason: string } | string {
  const ext = extname(entry).toLowerCase();
  const byEntry = ENTRY_RUNTIMES[ext];
  if (byEntry !== undefined) return { runtime: byEntry, reason: `entry "${entry}" is a ${ext} file` };
  const found = MARKER_FILES.filter(([name]) => existsSync(join(dir, name)));
  const runtimes = [...new Set(found.map(([, r]) => r))];
  if (runtimes.length === 1) {
    return { runtime: runtimes[0]!, reason: `${found.map(([n]) => n).join(' and ')} found beside plugin.yaml` };
  }
  if (runtimes.length === 0) {
    return `cannot detect the runtime: entry "${entry}" is not a .wasm, .js/.mjs/.cjs or .py file, and there is no package.json, requirements.txt or pyproject.toml`;
  }
  return `cannot detect the runtime: ambiguous, candidates ${found.map(([n, r]) => `${r} (${n})`).join(', ')}`;
}
