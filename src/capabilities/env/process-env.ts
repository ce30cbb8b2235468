/**
 * Env for engines that hand it to a child process (wasmtime, Docker): a
 * name or value that a process environment cannot carry is refused, never
 * mangled.
 */
export function processEnvRefusal(name: string, value: string): string | undefined {
  return name === '' || name.includes('=') || name.includes('\0') || value.includes('\0')
    ? `env: ${JSON.stringify(name)} cannot be passed through a process environment`
    : undefined;
}
