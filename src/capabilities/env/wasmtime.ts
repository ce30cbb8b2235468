/**
 * Env for wasmtime: only granted names, each as `--env NAME`, the inherit
 * form, with the value set on the wasmtime process's own (otherwise empty)
 * environment, so values stay off the command line. `-S inherit-env=n` keeps
 * everything else out.
 */
import type { WasmtimeContribution } from '../types.ts';
import type { Grants } from '../../grants/types.ts';
import { processEnvRefusal } from './process-env.ts';

export function envWasmtime(grants: Grants): WasmtimeContribution {
  const args = ['-S', 'inherit-env=n'];
  const env = Object.create(null) as Record<string, string>; // `__proto__` is a name like any other
  const refuse: string[] = [];
  for (const [name, value] of Object.entries(grants.env)) {
    const refusal = processEnvRefusal(name, value);
    if (refusal !== undefined) {
      refuse.push(refusal);
      continue;
    }
    args.push('--env', name);
    env[name] = value;
  }
  return { args, env, refuse };
}
