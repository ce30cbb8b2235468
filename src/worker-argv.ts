/**
 * The Node options a worker thread of this process starts with: the host's
 * own (a preload with --import stays), less --input-type. A host run as
 * `node --input-type=module -e …` would otherwise have every worker refuse to
 * start ("--input-type can only be used with string input"). Without
 * --input-type, undefined: Node then passes them on itself, V8 flags included
 * (which an explicit execArgv may not carry: `node --no-wasm-dynamic-tiering`
 * would fail every worker's start with ERR_WORKER_INVALID_EXEC_ARGV).
 */
export function workerExecArgv(): string[] | undefined {
  const argv = process.execArgv;
  if (!argv.some((a) => a === '--input-type' || a.startsWith('--input-type='))) return undefined;
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--input-type') i++;
    else if (!a.startsWith('--input-type=')) out.push(a);
  }
  return out;
}
