import { resolve } from 'node:path';
import { loadPluginOffThread } from '../../manifest/index.ts';
import { pushPlugin } from '../../trust/oci/index.ts';
import { parseFlags } from '../flags.ts';
import { UsageError, type CliIO, type Command } from '../io.ts';

export const pushCommand: Command = {
  name: 'push',
  summary: 'Publish a plugin to an OCI registry (wasm: the CNCF wasm artifact plus its sources)',
  help: `Usage: airlock push <plugin-dir> <registry/repository:tag> [--json]

wasm plugins: builds the component (cached) and pushes it in the CNCF wasm
OCI artifact layout (config application/vnd.wasm.config.v0+json, one
application/wasm layer), with a second layer holding the plugin's source
bundle (its manifest and files, and airlock.minisig when it is signed).
node and python plugins: the source bundle alone. Prints the manifest
digest: pull registry/repository@<digest> to get exactly what was pushed.
A loopback registry (localhost, 127.x, [::1]) is spoken to over HTTP, any
other over HTTPS; registries that need a login are not supported yet.

Options:
  --json      print {reference, manifest, digest, kind} as JSON
  -h, --help  show this help`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseFlags(argv, ['json']);
    if (positionals.length !== 2)
      throw new UsageError('expected <plugin-dir> <registry/repository:tag>, e.g. `airlock push ./weather localhost:5000/plugins/weather:1.0.0`');
    const plugin = await loadPluginOffThread(resolve(io.cwd, positionals[0]!));
    const pushed = await pushPlugin(plugin, positionals[1]!);
    if (values.json === true) io.stdout(`${JSON.stringify(pushed)}\n`);
    else io.stdout(`pushed  ${pushed.reference}  (${pushed.kind})\n  manifest  ${pushed.manifest}\n  plugin    ${pushed.digest}\n`);
    return 0;
  },
};
