import { resolve } from 'node:path';
import { readLock } from '../../trust/index.ts';
import { pullPlugin } from '../../trust/oci/index.ts';
import { parseFlags, policyFromFlags } from '../flags.ts';
import { displayPath, UsageError, type CliIO, type Command } from '../io.ts';

export const pullCommand: Command = {
  name: 'pull',
  summary: 'Fetch a plugin from an OCI registry, verified before it is placed',
  help: `Usage: airlock pull <[oci://]registry/repository(:tag|@sha256:…)> [--to dir] [--lock f] [--policy f] [--json]

Fetches the plugin's source bundle; the manifest and every blob are read
with a size cap and checked against their digests as they stream (a
registry serving other bytes: digest-mismatch). The bundle is unpacked
(regular files and folders only, bounded) into a staging folder and checked
against --lock (lock-mismatch) and the policy's trust.signers
(signature-missing, signature-invalid, untrusted-signer) before it is moved
to --to; nothing is built. Then \`airlock call <dir> …\` runs it.

Options:
  --to <dir>       where to put it (must not exist; default ./<plugin name>)
  --lock <file>    refuse it unless this lock file pins it as it is
  --policy <file>  host policy YAML whose trust section applies
  --json           print {dir, name, version, digest, manifest, signer} as JSON
  -h, --help       show this help`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseFlags(argv, ['json', 'policy', 'lock'], { to: { type: 'string' } });
    if (positionals.length !== 1) throw new UsageError('name one reference, e.g. `airlock pull localhost:5000/plugins/weather:1.0.0`');
    const policy = policyFromFlags(values, io);
    const pulled = await pullPlugin(positionals[0]!, {
      cwd: io.cwd,
      policy,
      ...(values.to === undefined ? {} : { to: resolve(io.cwd, values.to) }),
      ...(values.lock === undefined ? {} : { lock: await readLock(resolve(io.cwd, values.lock)) }),
    });
    if (values.lock === undefined && (policy.trust?.signers.length ?? 0) === 0)
      io.stderr('airlock pull: nothing pinned it (no --lock, no trust.signers in the policy): review it, then `airlock lock` it\n');
    if (values.json === true) io.stdout(`${JSON.stringify(pulled)}\n`);
    else
      io.stdout(
        `pulled  ${pulled.name} ${pulled.version}  ${pulled.digest}${pulled.signer === undefined ? '' : `  signed by key ${pulled.signer}`}\n  into ${displayPath(io, pulled.dir)}\n`,
      );
    return 0;
  },
};
