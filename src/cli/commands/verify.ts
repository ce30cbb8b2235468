import { resolve } from 'node:path';
import { loadPluginOffThread } from '../../manifest/index.ts';
import { parsePublicKey, pluginDigest, signerRules, verifyPlugin, type SignerRule } from '../../trust/index.ts';
import { readSmallFile } from '../../trust/read.ts';
import { parseFlags, policyFromFlags } from '../flags.ts';
import { UsageError, type CliIO, type Command } from '../io.ts';

export const verifyCommand: Command = {
  name: 'verify',
  summary: "Check a plugin's signature against a public key or the host policy's signers",
  help: `Usage: airlock verify <plugin-dir> (--key <file.pub> ... | --policy <policy.yaml>) [--json]

Checks <plugin-dir>/airlock.minisig: that it signs this plugin's name,
version and digest as they are now, by one of the given public keys (any
plugin name), or by a signer the policy's trust.signers allows for this
plugin's name. Refusals: signature-missing, signature-invalid,
untrusted-signer (exit 1).

Options:
  --key <file>     a minisign public key file (repeatable)
  --policy <file>  host policy YAML whose trust.signers to use
  --json           print {plugin, version, digest, signer} as JSON
  -h, --help       show this help`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseFlags(argv, ['policy', 'json'], { key: { type: 'string', multiple: true } });
    if (positionals.length !== 1) throw new UsageError('name one plugin folder, e.g. `airlock verify ./weather --key airlock.pub`');
    const keys = values.key ?? [];
    if (keys.length === 0 && values.policy === undefined)
      throw new UsageError('give the public key(s) to trust (--key file.pub) or a policy with trust.signers (--policy)');
    const rules: SignerRule[] = [];
    for (const k of keys)
      rules.push({ key: parsePublicKey(await readSmallFile(resolve(io.cwd, k), 4096, 'signature-invalid', 'public key')), allows: () => true });
    if (values.policy !== undefined) {
      const trust = policyFromFlags(values, io).trust;
      if (trust !== undefined) rules.push(...signerRules(trust));
    }
    const plugin = await loadPluginOffThread(resolve(io.cwd, positionals[0]!));
    const digest = await pluginDigest(plugin.dir);
    // Required here: verifying an unsigned plugin is a refusal, whatever the policy says about loading one.
    const signer = await verifyPlugin(plugin, digest, rules, true);
    const { name, version } = plugin.manifest;
    if (values.json === true) io.stdout(`${JSON.stringify({ plugin: name, version, digest, signer })}\n`);
    else io.stdout(`verified  ${name} ${version}  ${digest}  signed by key ${signer}\n`);
    return 0;
  },
};
