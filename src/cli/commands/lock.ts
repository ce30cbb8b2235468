import { dirname, relative, resolve, sep } from 'node:path';
import { loadPluginOffThread } from '../../manifest/index.ts';
import { LOCK_FILE, lockEntry, writeLock, type LockEntry } from '../../trust/index.ts';
import { resolvePluginArg } from '../plugins.ts';
import { parseFlags } from '../flags.ts';
import { displayPath, UsageError, type CliIO, type Command } from '../io.ts';

export const lockCommand: Command = {
  name: 'lock',
  summary: 'Pin plugins as reviewed: airlock.lock with their digests and tool hashes',
  help: `Usage: airlock lock <plugin-dir|name ...> [--out airlock.lock] [--json]

Writes a lock file naming each plugin, its version, its folder, its digest
(manifest and files) and a hash of each tool's description, schemas and
annotations. \`serve\`, \`call\` and \`list\` given --lock <file> refuse a
plugin that is not in it, whose files changed, or whose tools changed
(lock-mismatch), before anything is built. Review the plugins first: the
lock pins what you reviewed, not that it is safe. Run it again after
reviewing a change.

Options:
  --out <file>  where to write it (default: ./${LOCK_FILE})
  --json        also print the entries as JSON
  -h, --help    show this help`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseFlags(argv, ['json'], { out: { type: 'string' } });
    if (positionals.length === 0) throw new UsageError('name the plugins to lock, e.g. `airlock lock ./weather ./search`');
    const out = resolve(io.cwd, values.out ?? LOCK_FILE);
    const entries: LockEntry[] = [];
    for (const arg of positionals) {
      const plugin = await loadPluginOffThread(await resolvePluginArg(arg, io.cwd));
      // The folder relative to the lock file, so a project can be moved or checked out elsewhere.
      const source = relative(dirname(out), plugin.dir).split(sep).join('/') || '.';
      const entry = await lockEntry(plugin, source);
      if (entries.some((e) => e.name === entry.name)) throw new UsageError(`two plugins are named "${entry.name}"; lock one of them`);
      entries.push(entry);
    }
    await writeLock(out, entries);
    if (values.json === true) io.stdout(`${JSON.stringify(entries, null, 2)}\n`);
    else for (const e of entries) io.stdout(`locked  ${e.name} ${e.version}  ${e.digest}  (${e.tools.length} tools)\n`);
    io.stderr(`wrote ${displayPath(io, out)}\n`);
    return 0;
  },
};
