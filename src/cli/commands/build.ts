import { resolve } from 'node:path';
import { isAirlockError } from '../../errors.ts';
import { computeGrants } from '../../grants/index.ts';
import { buildComponent, prepareSource } from '../../provider/index.ts';
import { loadPluginOffThread } from '../../manifest/index.ts';
import { fileDigest } from '../../trust/index.ts';
import { parseFlags, policyFromFlags } from '../flags.ts';
import { displayPath, UsageError, type CliIO, type Command } from '../io.ts';

interface Built {
  /** `component`, or what a source engine built (`image`). */
  kind: string;
  /** Component path or image tag. */
  artifact: string;
  cached: boolean;
  /** sha256 of the component's bytes, or the image id. */
  digest?: string;
}

export const buildCommand: Command = {
  name: 'build',
  summary: "Build a plugin's component (wasm) or image (node, python) ahead of its first call",
  help: `Usage: airlock build <plugin-dir> [--force] [--policy <file>] [--json]

wasm plugins: builds the entry (C, JavaScript, Python, or a core module) into
a WASI 0.2 component exporting airlock:plugin/tools, or checks a prebuilt
component. node and python plugins: builds the plugin's Docker image, with
its dependencies, and the component of a \`wasm:\` entry when there is one.
Everything is cached by content hash: an unchanged plugin is not rebuilt.
Calls build on demand too; this only moves the wait.

Options:
  --force          rebuild the component even when the cache has it
  --policy <file>  host policy YAML (the image is built for the grants a call would get)
  --json           print [{kind, artifact, cached, digest}] as JSON (digest: the
                   component's sha256, or the image id), or {ok: false, error}
                   on failure (error.details.raw: the toolchain's own output)
  -h, --help       show this help`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseFlags(argv, ['policy', 'json'], { force: { type: 'boolean' } });
    try {
      return await build(argv, io);
    } catch (err) {
      if (values.json !== true || !isAirlockError(err)) throw err;
      io.stdout(`${JSON.stringify({ ok: false, error: err.toJSON() })}\n`);
      return 1;
    }
  },
};

/** The build itself; `run` turns its failure into JSON under --json. */
async function build(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(argv, ['policy', 'json'], { force: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError('name one plugin folder, e.g. `airlock build ./my-plugin`');
  const plugin = await loadPluginOffThread(resolve(io.cwd, positionals[0]!));
  const grants = computeGrants(plugin, policyFromFlags(values, io));
  const built: Built[] = [];
  const component = await buildComponent(grants, { force: values.force === true });
  if (component !== undefined)
    built.push({ kind: 'component', artifact: component.componentPath, cached: component.cached, digest: await fileDigest(component.componentPath) });
  const prepared = await prepareSource(grants, plugin.manifest.build ?? {}, {
    onEvent: (e) => {
      if (values.json === true || e.type !== 'build') return;
      // A tool's own output (a compiler's lines) only on a terminal; the steps always.
      if (e.detail !== true || io.isTTY) io.stderr(`${e.message}\n`);
    },
  });
  if (prepared !== undefined) built.push(prepared);
  if (values.json === true) {
    io.stdout(`${JSON.stringify(built, null, 2)}\n`);
  } else {
    for (const b of built)
      io.stdout(
        `${b.cached ? 'cached' : 'built '}  ${b.kind === 'component' ? displayPath(io, b.artifact) : b.artifact}${b.digest === undefined ? '' : `  ${b.digest}`}\n`,
      );
  }
  return 0;
}
