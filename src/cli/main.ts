#!/usr/bin/env node
/**
 * The `airlock` command. Each command lives in commands/ and only wires the
 * library; this file is the one place that prints errors and exits.
 */
import { realpathSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';
import { formatProblem, isAirlockError } from '../errors.ts';
import { cacheDir } from '../paths.ts';
import { airlockVersion } from '../version.ts';
import { displayPath, terminalSafe, UsageError, type CliIO, type Command, type CommandEntry } from './io.ts';

/**
 * Every command, in the order `airlock --help` lists them. A command's module
 * (its help, flags and everything it uses: builds, Docker, MCP, the bench) is
 * loaded only when that command runs, so `airlock call` pays for none of the
 * others. `summary` is the module's own (a test keeps them equal).
 */
export const COMMANDS: CommandEntry[] = [
  {
    name: 'call',
    summary: "Call one of a plugin's tools and print the result",
    // What the plugin's load will wait for starts before the command's code and the host load (the worker
    // engine's thread: src/provider prepareEngine). A plugin no component engine runs leaves it unused: a blank
    // thread never handed a plugin (no plugin data, unref'd) that ends with the process.
    prepare: async () => (await import('../provider/index.ts')).prepareEngine('auto'),
    load: async () => (await import('./commands/call.ts')).callCommand,
  },
  { name: 'list', summary: 'List plugins and their tools, with the engine each runs on', load: async () => (await import('./commands/list.ts')).listCommand },
  {
    name: 'serve',
    summary: 'Serve plugins to agents over MCP (stdio or streamable HTTP)',
    load: async () => (await import('./commands/serve.ts')).serveCommand,
  },
  {
    name: 'mcp-config',
    summary: 'Print the MCP configuration for Claude Desktop, Cursor or VS Code',
    load: async () => (await import('./commands/mcp-config.ts')).mcpConfigCommand,
  },
  { name: 'init', summary: 'Create a new plugin folder from a template', load: async () => (await import('./commands/init.ts')).initCommand },
  {
    name: 'build',
    summary: "Build a plugin's component (wasm) or image (node, python) ahead of its first call",
    load: async () => (await import('./commands/build.ts')).buildCommand,
  },
  {
    name: 'validate',
    summary: 'Check plugin folders (plugin.yaml and the files it names)',
    load: async () => (await import('./commands/validate.ts')).validateCommand,
  },
  {
    name: 'inspect',
    summary: "Show a plugin's tools, runtime, engine and effective grants",
    load: async () => (await import('./commands/inspect.ts')).inspectCommand,
  },
  {
    name: 'lock',
    summary: 'Pin plugins as reviewed: airlock.lock with their digests and tool hashes',
    load: async () => (await import('./commands/lock.ts')).lockCommand,
  },
  { name: 'keygen', summary: 'Make a signing key pair (minisign format)', load: async () => (await import('./commands/keygen.ts')).keygenCommand },
  { name: 'sign', summary: "Sign a plugin's name, version and digest (airlock.minisig)", load: async () => (await import('./commands/sign.ts')).signCommand },
  {
    name: 'verify',
    summary: "Check a plugin's signature against a public key or the host policy's signers",
    load: async () => (await import('./commands/verify.ts')).verifyCommand,
  },
  {
    name: 'push',
    summary: 'Publish a plugin to an OCI registry (wasm: the CNCF wasm artifact plus its sources)',
    load: async () => (await import('./commands/push.ts')).pushCommand,
  },
  {
    name: 'pull',
    summary: 'Fetch a plugin from an OCI registry, verified before it is placed',
    load: async () => (await import('./commands/pull.ts')).pullCommand,
  },
  {
    name: 'schema',
    summary: 'Print the JSON Schema of plugin.yaml (or of the host policy)',
    load: async () => (await import('./commands/schema.ts')).schemaCommand,
  },
  {
    name: 'doctor',
    summary: 'Check Node, the engines, the build toolchains and base images, and how to install what is missing',
    load: async () => (await import('./commands/doctor.ts')).doctorCommand,
  },
  {
    name: 'prune',
    summary: 'Remove old builds and images that no plugin uses now, and say what that freed',
    load: async () => (await import('./commands/prune.ts')).pruneCommand,
  },
  {
    name: 'audit',
    summary: 'Check an audit log: name each line altered or removed',
    load: async () => (await import('./commands/audit.ts')).auditCommand,
  },
  {
    name: 'bench',
    summary: 'Measure every engine against the others and against running plugins without Airlock',
    load: async () => (await import('./commands/bench.ts')).benchCommand,
  },
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
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry === undefined) {
    io.stderr(`airlock: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const help = rest.includes('--help') || rest.includes('-h');
  if (!help) await entry.prepare?.();
  const command = await entry.load();
  if (help) {
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
    if (err.hint !== undefined) io.stderr(`hint: ${err.hint}\n`);
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

/** Runs the CLI on this process's arguments and sets its exit code (bin/airlock.js calls it once Node's version is checked). */
export function runProcess(): void {
  useCompileCache();
  runCli(process.argv.slice(2), processIO).then(exitOnceFlushed, (err: unknown) => {
    process.stderr.write(terminalSafe(`airlock: internal error: ${String(err)}\n`));
    process.exitCode = 70;
  });
}

/**
 * Ends the process once the command has returned and what it printed has
 * reached stdout and stderr. A command returns only when it has closed what
 * it opened (a host its workers and audit log), so nothing is cut short; what
 * is skipped is Node tearing down the heap and its handles one by one after
 * the event loop empties (~5-10 ms of a fresh `airlock call`: issue 21).
 */
function exitOnceFlushed(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const flushed = () => {
    if (--pending === 0) process.exit(code);
  };
  // A write's callback runs once it and every write before it are handed to the OS (or failed: a closed pipe).
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}

/**
 * V8's code for the modules this process loads, kept under the Airlock cache
 * (Node's compile cache): a fresh `airlock` compiles Airlock, zod, Ajv and
 * yaml from it, a quarter less CPU than parsing them again (issue 21). This
 * thread only, never `NODE_COMPILE_CACHE` (which workers and children
 * inherit): a worker imports a plugin's glue from a file of its own, which
 * would add an entry per process. Skipped when the cache root cannot be
 * used (the command that needs the cache says why); NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 */
function useCompileCache(): void {
  try {
    enableCompileCache(cacheDir('v8-compile'));
  } catch {
    // See above.
  }
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) runProcess();
