import { resolve } from 'node:path';
import { loadPluginOffThread } from '../../manifest/index.ts';
import { parseSecretKey, signPlugin } from '../../trust/index.ts';
import { readSmallFile } from '../../trust/read.ts';
import { parseFlags } from '../flags.ts';
import { displayPath, UsageError, type CliIO, type Command } from '../io.ts';

export const signCommand: Command = {
  name: 'sign',
  summary: "Sign a plugin's name, version and digest (airlock.minisig)",
  help: `Usage: airlock sign <plugin-dir> --key <file.key>

Signs a statement binding the plugin's name, version and digest (its
manifest and files) with a minisign secret key (\`airlock keygen\`, or
\`minisign -G -W\`), and writes it to <plugin-dir>/airlock.minisig, which
the digest leaves out. Any later change to the plugin's files breaks the
signature. Hosts check it when their policy lists signers (trust.signers).

Options:
  --key <file>  the secret key
  -h, --help    show this help`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseFlags(argv, [], { key: { type: 'string' } });
    if (positionals.length !== 1) throw new UsageError('name one plugin folder, e.g. `airlock sign ./weather --key airlock.key`');
    if (values.key === undefined) throw new UsageError('give the secret key: --key airlock.key (make one with `airlock keygen`)');
    const key = parseSecretKey(await readSmallFile(resolve(io.cwd, values.key), 4096, 'signature-invalid', 'secret key'));
    const plugin = await loadPluginOffThread(resolve(io.cwd, positionals[0]!));
    const { file, digest } = await signPlugin(plugin, key);
    io.stdout(`signed  ${plugin.manifest.name} ${plugin.manifest.version}  ${digest}  by key ${key.publicKey.id}\n  ${displayPath(io, file)}\n`);
    return 0;
  },
};
