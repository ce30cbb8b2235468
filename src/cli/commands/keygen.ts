import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AirlockError } from '../../errors.ts';
import { formatPublicKey, formatSecretKey, generateKeys } from '../../trust/index.ts';
import { parseFlags } from '../flags.ts';
import { displayPath, type CliIO, type Command } from '../io.ts';

/** Creates the file (never replacing one: a key overwritten by mistake is lost), mode 0600 for secrets. */
async function create(path: string, text: string, mode: number): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new AirlockError('conflict', `${path} exists; keygen never replaces a key (move it away, or give --out)`);
    throw err;
  }
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

export const keygenCommand: Command = {
  name: 'keygen',
  summary: 'Make a signing key pair (minisign format)',
  help: `Usage: airlock keygen [--out airlock]

Writes <out>.key (the secret key, mode 0600, unencrypted: keep it private)
and <out>.pub (the public key, to hand out and list in a host policy's
trust.signers). Both are minisign files: \`minisign -V -p <out>.pub\` checks
what \`airlock sign\` signs, and keys made by \`minisign -G -W\` work here.

Options:
  --out <prefix>  file names without extension (default: airlock)
  -h, --help      show this help`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseFlags(argv, [], { out: { type: 'string' } });
    const prefix = resolve(io.cwd, values.out ?? 'airlock');
    const keys = generateKeys();
    await create(`${prefix}.key`, formatSecretKey(keys), 0o600);
    await create(`${prefix}.pub`, formatPublicKey(keys.publicKey), 0o644);
    io.stdout(
      `key ${keys.publicKey.id}\n  secret  ${displayPath(io, `${prefix}.key`)}\n  public  ${displayPath(io, `${prefix}.pub`)}\n  trust.signers entry: { key: ${keys.publicKey.line}, plugins: ["*"] }\n`,
    );
    return 0;
  },
};
