/**
 * Reading a plugin folder: plugin.yaml checked against the schema, the
 * runtime detected when the manifest leaves it out, and the files it names
 * checked to exist inside the folder. Every problem is reported at once.
 */
import { lstatSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { isAirlockError, type Problem } from '../errors.ts';
import { checkPluginFileSync, folderSync, MAX_MANIFEST_BYTES, readPluginFileSync, type Folder } from '../plugin-files/index.ts';
import { invalidManifest } from './invalid.ts';
import { lazyModule } from '../lazy.ts';
import { recalledCheck, rememberCheck, type RememberedCheck } from './check-cache.ts';
import { byPosition, sourceFromPositions, type YamlSource } from './positions.ts';
import type { Manifest, Runtime } from './schema.ts';
import type { Checked } from './source.ts';

/** The checker (yaml, zod, Ajv), loaded by the first text that was not checked before (./check-cache.ts). */
const schemas = lazyModule<typeof import('./schema.ts')>(import.meta.url, './schema');
const sources = lazyModule<typeof import('./source.ts')>(import.meta.url, './source');

export { invalidManifest };

export const MANIFEST_FILE = 'plugin.yaml';

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
  const read = readManifest(dirOrFile);
  return 'problems' in read ? read : validateManifestText(read.file, read.text);
}

/**
 * validatePlugin when its answer needs no checker: the text's schema check is
 * remembered (./check-cache.ts), or plugin.yaml cannot be read. Undefined when
 * the text must be checked. Loads neither yaml, zod nor Ajv, and costs a bounded
 * read, a hash and a few stats: the host does this on its own thread and sends
 * only a text never checked before to the manifest worker (./off-thread.ts).
 */
export function recalledPlugin(dirOrFile: string): ValidationResult | undefined {
  const read = readManifest(dirOrFile);
  if ('problems' in read) return read;
  const recalled = recalledCheck(read.text);
  return recalled === undefined ? undefined : validateManifestText(read.file, read.text, recalled);
}

/** plugin.yaml's path and text (bounded), or why it cannot be read. */
function readManifest(dirOrFile: string): { file: string; text: string } | { ok: false; file: string; problems: Problem[] } {
  const given = resolve(dirOrFile);
  let file = given;
  try {
    // stat opens nothing: a FIFO or device given here is refused by the reader below.
    if (statSync(given).isDirectory()) file = join(given, MANIFEST_FILE);
  } catch {
    return {
      ok: false,
      file: given,
      problems: [{ file: given, path: '', message: 'no such file or folder', hint: 'pass a plugin folder that contains plugin.yaml' }],
    };
  }
  try {
    // Bounded, and never blocking: a FIFO, device or link out of the folder is refused unopened.
    const text = readPluginFileSync(dirname(file), file, {
      code: 'invalid-manifest',
      maxBytes: MAX_MANIFEST_BYTES,
      sizeHint: 'keep data out of plugin.yaml',
    }).toString('utf8');
    return { file, text };
  } catch (err) {
    if (!isAirlockError(err)) throw err;
    const missing = err.details.reason === 'missing';
    return {
      ok: false,
      file,
      problems: missing
        ? [
            {
              file,
              path: '',
              message: `cannot read ${MANIFEST_FILE}`,
              hint: `create ${MANIFEST_FILE} in the plugin folder (\`airlock init <name>\` writes one)`,
            },
          ]
        : err.problems,
    };
  }
}

/** Checks manifest text that lives at `file` (its folder is the plugin folder); `recalled`: its schema check, already looked up. */
export function validateManifestText(file: string, text: string, recalled = recalledCheck(text)): ValidationResult {
  const checked = schemaCheck(file, text, recalled);
  const folder = folderOrSelf(dirname(file));
  const dir = folder.real;
  if (!checked.ok) {
    // Schema problems do not hide file problems: report a missing entry in the same run.
    const raw = checked.data as { entry?: unknown; wasm?: unknown } | undefined;
    const more: Problem[] = [];
    if (typeof raw?.entry === 'string' && raw.entry !== '') more.push(...fileProblems(folder, file, checked.source, 'entry', raw.entry));
    if (typeof raw?.wasm === 'string' && raw.wasm !== '') more.push(...fileProblems(folder, file, checked.source, 'wasm', raw.wasm));
    const all = [...checked.problems, ...more].sort(byPosition);
    return { ok: false, file, problems: all };
  }
  const manifest = checked.value;
  const source = checked.source;
  const problems: Problem[] = [
    ...fileProblems(folder, file, source, 'entry', manifest.entry),
    ...(manifest.wasm === undefined ? [] : fileProblems(folder, file, source, 'wasm', manifest.wasm)),
  ];

  let runtime: Runtime | undefined = manifest.runtime;
  let runtimeReason = 'runtime set in plugin.yaml';
  if (runtime === undefined) {
    const detected = detectRuntime(dir, manifest.entry);
    if (typeof detected === 'string') {
      problems.push({
        file,
        ...source.locateKey([], 'entry'),
        path: 'runtime',
        message: detected,
        hint: 'add `runtime: wasm`, `runtime: node` or `runtime: python`',
      });
    } else {
      runtime = detected.runtime;
      runtimeReason = `detected: ${detected.reason}`;
    }
  }
  if (problems.length > 0 || runtime === undefined) return { ok: false, file, problems };
  return { ok: true, plugin: { manifest, runtime, runtimeReason, dir, file, source } };
}

/** The schema check of the text: as it passed before (./check-cache.ts), or checked now (and kept when it passes). */
function schemaCheck(file: string, text: string, recalled: RememberedCheck | undefined): Checked<Manifest> {
  if (recalled !== undefined) return { ok: true, value: recalled.value as Manifest, source: sourceFromPositions(file, recalled.positions) };
  const checked = sources().checkYaml(file, text, schemas().manifestSchema, MANIFEST_FILE);
  if (checked.ok) rememberCheck(text, { value: checked.value, positions: checked.source.positions });
  return checked;
}

function folderOrSelf(dir: string): Folder {
  try {
    return folderSync(dir, 'invalid-manifest');
  } catch {
    return { dir, real: dir };
  }
}

/** `entry`/`wasm` must name a regular file inside the plugin folder, also after symlinks (checked, not opened). */
function fileProblems(folder: Folder, file: string, source: YamlSource, field: 'entry' | 'wasm', value: string): Problem[] {
  try {
    checkPluginFileSync(folder, value, 'invalid-manifest');
    return [];
  } catch (err) {
    if (!isAirlockError(err)) throw err;
    const at = source.locate([field]);
    if (err.details.reason === 'missing') {
      return [{ file, ...at, path: field, message: `file "${value}" not found in ${folder.real}`, hint: `create it, or fix \`${field}\` to name the file` }];
    }
    const p = err.problems[0];
    return [{ file, ...at, path: field, message: `"${value}" ${p?.message ?? err.message}`, ...(p?.hint === undefined ? {} : { hint: p.hint }) }];
  }
}

/** Like validatePlugin, but throws `invalid-manifest` with every problem. */
export function loadPlugin(dirOrFile: string): LoadedManifest {
  const result = validatePlugin(dirOrFile);
  if (result.ok) return result.plugin;
  throw invalidManifest(result.file, result.problems);
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
  const found = MARKER_FILES.filter(([name]) => {
    try {
      lstatSync(join(dir, name));
      return true;
    } catch {
      return false;
    }
  });
  const runtimes = [...new Set(found.map(([, r]) => r))];
  if (runtimes.length === 1) {
    return { runtime: runtimes[0]!, reason: `${found.map(([n]) => n).join(' and ')} found beside plugin.yaml` };
  }
  if (runtimes.length === 0) {
    return `cannot detect the runtime: entry "${entry}" is not a .wasm, .js/.mjs/.cjs or .py file, and there is no package.json, requirements.txt or pyproject.toml`;
  }
  return `cannot detect the runtime: ambiguous, candidates ${found.map(([n, r]) => `${r} (${n})`).join(', ')}`;
}
