/**
 * The guest sees exactly grants.env (granted names with the host's values)
 * and argv = [plugin name]. The worker thread itself runs with an empty
 * process env, so nothing else could leak through a shim default either.
 */
import type { Grants } from '../../grants/types.ts';
import type { WasiContext, WasiImports, WasiPart } from '../types.ts';

/**
 * wasi:cli/exit would end the whole worker thread (preview2-shim calls
 * process.exit); a guest exiting mid-call traps instead, so only its
 * instance is replaced.
 */
export class GuestExit extends Error {
  constructor(status: string) {
    super(`the guest called exit (${status}) instead of returning a result`);
    this.name = 'GuestExit';
  }
}

export function envWasi(grants: Grants, ctx: WasiContext): WasiImports {
  const entries = Object.entries(grants.env).map(([k, v]) => [k, v] as [string, string]);
  const args = [ctx.pluginName];
  const base = ctx.base['wasi:cli/environment'] ?? {};
  return {
    'wasi:cli/environment': {
      ...base,
      // Fresh arrays per call: the glue lowers them, a guest cannot mutate ours.
      getEnvironment: () => entries.map(([k, v]) => [k, v]),
      getArguments: () => [...args],
      initialCwd: () => undefined,
    },
    'wasi:cli/exit': {
      exit: (status: { tag?: string } | undefined): never => {
        throw new GuestExit(status?.tag === 'err' ? 'error' : 'ok');
      },
      exitWithCode: (code: number): never => {
        throw new GuestExit(`code ${code}`);
      },
    },
  };
}

export const wasiPart: WasiPart = { wasi: envWasi };
