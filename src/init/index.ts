/**
 * `airlock init`: a new plugin folder from a template in runtimes/templates/<template>/.
 * Every file of the template is copied with `{{name}}` replaced by the plugin
 * name (template.json describes the template and is not copied). The result
 * is checked with the same validator as `airlock validate` before it is
 * reported, so a template that drifts from the manifest schema fails here,
 * not in the user's first call.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DOCKER_INSTALL_HINT, probeDocker } from '../engines/probe.ts';
import { AirlockError } from '../errors.ts';
import { validatePlugin, type Runtime } from '../manifest/index.ts';
import { WIT_PATH } from '../wit.ts';
import { TEMPLATES, type TemplateName } from './templates.ts';
import { findRustToolchain, RUST_TARGET } from '../build/rust.ts';

export { TEMPLATES, type TemplateName };

/** Same rule as the manifest's `name` (a lowercase DNS label). */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

// src/init/ and dist/init/ are both two levels below the package root.
const TEMPLATE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../runtimes/templates');

export interface InitOptions {
  /** Which template (default js). */
  template?: TemplateName;
  /** Folder the relative `target` resolves against (default process.cwd()). */
  cwd?: string;
}

export interface InitResult {
  /** Absolute path of the new plugin folder. */
  dir: string;
  name: string;
  template: TemplateName;
  runtime: Runtime;
  /** Files written, relative to `dir`. */
  files: string[];
  tools: string[];
  /** What the template says it needs, for people. */
  description: string;
  /** A call that works as created: `airlock call <dir> <tool> '<input>'`. */
  example: { tool: string; input: Record<string, unknown> };
  /** What this machine lacks to build or run the plugin, each with how to get it (empty when ready). */
  missing: string[];
}

interface TemplateMeta {
  description: string;
  example: { tool: string; input: Record<string, unknown> };
  /** Where the plugin gets a copy of Airlock's world (wit/airlock-plugin.wit), for bindings generated from it. */
  world?: string;
}

export function isTemplate(value: string): value is TemplateName {
  return (TEMPLATES as readonly string[]).includes(value);
}

/**
 * Creates `target` (a folder path; its last segment is the plugin name) from
 * a template. Refuses an invalid name and a folder that exists and is not empty.
 */
export async function initPlugin(target: string, options: InitOptions = {}): Promise<InitResult> {
  const template = options.template ?? 'js';
  if (!isTemplate(template)) {
    throw new AirlockError('invalid-input', `unknown template "${String(template)}"; choose one of ${TEMPLATES.join(', ')}`);
  }
  const dir = resolve(options.cwd ?? process.cwd(), target);
  const name = basename(dir);
  if (!DNS_LABEL.test(name)) {
    const suggestion = name
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63);
    throw new AirlockError(
      'invalid-input',
      `"${name}" cannot name a plugin: use a lowercase DNS label (a-z, 0-9 and "-", at most 63 characters)${suggestion === '' ? '' : `, e.g. "${suggestion}"`}`,
      { details: { name } },
    );
  }
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw new AirlockError('conflict', `${dir} already exists and is not an empty folder; pick another name or remove it`, { details: { dir } });
  }
  const source = join(TEMPLATE_ROOT, template);
  const meta = JSON.parse(readFileSync(join(source, 'template.json'), 'utf8')) as TemplateMeta;
  const files = [...listFiles(source).filter((f) => f !== 'template.json'), ...(meta.world === undefined ? [] : [meta.world])];
  const created = !existsSync(dir);
  try {
    for (const rel of files) {
      const text = rel === meta.world ? readFileSync(WIT_PATH, 'utf8') : readFileSync(join(source, rel), 'utf8').replaceAll('{{name}}', name);
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), text, { flag: 'wx' });
    }
    const checked = validatePlugin(dir);
    if (!checked.ok) {
      throw new AirlockError('internal', `the ${template} template does not validate: ${checked.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, {
        problems: checked.problems,
      });
    }
    return {
      dir,
      name,
      template,
      runtime: checked.plugin.runtime,
      files,
      tools: checked.plugin.manifest.tools.map((t) => t.name),
      description: meta.description,
      example: meta.example,
      missing: await missingToolchain(template),
    };
  } catch (err) {
    // Leave nothing half-written behind.
    if (created) rmSync(dir, { recursive: true, force: true });
    else for (const rel of files) rmSync(join(dir, rel), { force: true });
    throw err;
  }
}

/**
 * The tools a template's first call needs that this machine lacks (the
 * plugin is created anyway: the user may install them next). js needs
 * nothing beyond Airlock's own dependencies.
 */
async function missingToolchain(template: TemplateName): Promise<string[]> {
  const answers = (command: string): Promise<boolean> =>
    new Promise((resolve) => execFile(command, ['--version'], { timeout: 10_000 }, (error) => resolve(error === null)));
  switch (template) {
    case 'js':
      return [];
    case 'c':
      return [
        ...((await answers('clang')) ? [] : ['clang, lld and wasi-libc (Debian: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)']),
        ...((await answers('bwrap')) || process.env.AIRLOCK_UNSANDBOXED_BUILDS === '1'
          ? []
          : ['bubblewrap, the sandbox C builds run in (Debian: apt-get install bubblewrap)']),
      ];
    case 'python':
      return (await answers('componentize-py')) ? [] : ['componentize-py (pip install componentize-py)'];
    case 'rust': {
      const rust = await findRustToolchain(process.env);
      return [
        ...(rust === undefined
          ? [`Rust and its ${RUST_TARGET} target (https://rustup.rs, then rustup target add ${RUST_TARGET})`]
          : rust.hasTarget
            ? []
            : [`the Rust target ${RUST_TARGET} (rustup target add ${RUST_TARGET})`]),
        ...((await answers('bwrap')) || process.env.AIRLOCK_UNSANDBOXED_BUILDS === '1'
          ? []
          : ['bubblewrap, the sandbox Rust builds run in (Debian: apt-get install bubblewrap)']),
      ];
    }
    case 'node':
    case 'python-docker': {
      const docker = await probeDocker({ timeoutMs: 2000 });
      return docker.available ? [] : [`a running Docker daemon (${docker.reason ?? 'unavailable'}; ${docker.installHint ?? DOCKER_INSTALL_HINT})`];
    }
  }
}

function listFiles(root: string, prefix = ''): string[] {
  return readdirSync(join(root, prefix), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => (e.isDirectory() ? listFiles(root, join(prefix, e.name)) : [join(prefix, e.name)]));
}
