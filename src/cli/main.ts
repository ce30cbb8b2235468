#!/usr/bin/env node
/**
 * The `airlock` command. Each command lives in commands/ and only wires the
 * library; this file is the one place that prints errors and exits.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatProblem, isAirlockError } from '../errors.ts';
import { airlockVersion } from '../version.ts';
import { auditCommand } from './commands/audit.ts';
import { benchCommand } from './commands/bench.ts';
import { buildCommand } from './commands/build.ts';
import { callCommand } from './commands/call.ts';
import { doctorCommand } from './commands/doctor.ts';
import { initCommand } from './commands/init.ts';
import { inspectCommand } from './commands/inspect.ts';
import { listCommand } from './commands/list.ts';
import { mcpConfigCommand } from './commands/mcp-config.ts';
import { schemaCommand } from './commands/schema.ts';
import { serveCommand } from './commands/serve.ts';
import { validateCommand } from './commands/validate.ts';
import { displayPath, terminalSafe, UsageError, type CliIO, type Command } from './io.ts';

export const COMMANDS: Command[] = [
  callCommand,
  listCommand,
  serveCommand,
  mcpConfigCommand,
  initCommand,
  buildCommand,
  validateCommand,
  inspectCommand,
  schemaCommand,
  doctorCommand,
  benchCommand,
  auditCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: airlock <command> [options]

Airlock runs untrusted plugins for AI agents, sandboxed.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run \`airlock <command> --help\` for a command's options.
`;
}

/** Runs one CLI invocation and returns its exit code (never exits itself: tests call this). */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`${airlockVersion()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr(`airlock: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    return report(err, command, io);
  }
}

function report(err: unknown, command: Command, io: CliIO): number {
  if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
    io.stderr(`airlock ${command.name}: ${err.message}\n\n${command.help}\n`);
    return 2;
  }
  if (isAirlockError(err)) {
    if (err.problems.length > 0) {
      const head =
        err.code === 'permission-denied' ? `airlock ${command.name}: permission-denied: ${err.message.split('\n')[0]}` : `airlock ${command.name}: ${err.code}`;
      io.stderr(`${head}\n`);
      for (const p of err.problems) io.stderr(`${formatProblem({ ...p, file: displayPath(io, p.file) })}\n`);
    } else {
      io.stderr(`airlock ${command.name}: ${err.code}: ${err.message}\n`);
    }
    return 1;
  }
  // A bug in Airlock: say so plainly; the stack only on request.
  const message = err instanceof Error ? err.message : String(err);
  io.stderr(`airlock ${command.name}: internal error: ${message}\n`);
  if (process.env.AIRLOCK_DEBUG === '1' && err instanceof Error && err.stack !== undefined) io.stderr(`${err.stack}\n`);
  else io.stderr('(set AIRLOCK_DEBUG=1 for details, and please report it)\n');
  return 70;
}

/**
 * The real streams. Every byte the CLI prints passes terminalSafe here, TTY
 * or not (a CI log or a `tee` file is read on a terminal later): one place,
 * so no command can forget it.
 */
export const processIO: CliIO = {
  stdout: (t) => process.stdout.write(terminalSafe(t)),
  stderr: (t) => process.stderr.write(terminalSafe(t)),
  stdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  cwd: process.cwd(),
  isTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  status: (line) => process.stderr.write(`\r\x1b[K${terminalSafe(line, false)}`),
};

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  runCli(process.argv.slice(2), processIO).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(terminalSafe(`airlock: internal error: ${String(err)}\n`));
      process.exitCode = 70;
    },
  );
}
