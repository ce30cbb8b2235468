import { formatProbes, probeEngines } from '../../engines/probe.ts';
import { parseFlags } from '../flags.ts';
import { UsageError, type CliIO, type Command } from '../io.ts';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check which engines can run plugins here, and how to install the missing ones',
  help: `Usage: airlock doctor [--json]

Probes every engine: the WebAssembly worker engine (always there: it is
Node itself), the wasmtime CLI and Docker. For each: available or not, its
version and where it was found, or why it is missing and how to install it.

Options:
  --json      print the probes as JSON
  -h, --help  show this help

Exit status: 0 when every engine is available, 1 when one is missing (the
others still work: wasm plugins need no Docker).`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseFlags(argv, ['json']);
    if (positionals.length > 0) throw new UsageError('doctor takes no arguments');
    const probes = await probeEngines();
    if (values.json === true) io.stdout(`${JSON.stringify(probes, null, 2)}\n`);
    else io.stdout(`${formatProbes(probes).join('\n')}\n`);
    return Object.values(probes).every((p) => p.available) ? 0 : 1;
  },
};
