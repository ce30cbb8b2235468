/**
 * The baseline WASI imports under the capabilities: preview2-shim's
 * interfaces, every sandbox option closed. preview2-shim is not a security
 * boundary; the capabilities replace each interface a grant governs.
 *
 * Loaded by family, and only the families a component imports: a worker for
 * a C plugin that prints never loads the shim's sockets or its HTTP client
 * (node:http). wasi:io and wasi:clocks always (Airlock's own streams subclass
 * the wasi:io/streams classes, and a ready pollable is a zero-length clock
 * wait: ./shim.ts). A component that imports neither wasi:http nor
 * wasi:sockets gets wasi:io, wasi:clocks and wasi:cli from ./own-io.ts
 * instead of the shim, whose versions start its IO thread on import (the
 * thread sockets and HTTP run on). wasi:filesystem and wasi:random are never
 * the shim's: their capabilities provide the whole interfaces.
 */
import type { WasiImports } from './types.ts';

type Family = 'io' | 'clocks' | 'cli' | 'sockets' | 'http' | 'own';
type Loader = () => Promise<WasiImports>;

const deniedHandle = (): never => {
  throw 'access-denied';
};

const FAMILIES: Record<Family, Loader> = {
  // wasi:io, wasi:clocks and wasi:cli without the shim's IO thread.
  own: async () => (await import('./own-io.ts')).ownIo,
  io: async () => {
    const io = await import('@bytecodealliance/preview2-shim/io');
    return { 'wasi:io/error': io.error, 'wasi:io/poll': io.poll, 'wasi:io/streams': io.streams } as unknown as WasiImports;
  },
  clocks: async () => {
    const clocks = await import('@bytecodealliance/preview2-shim/clocks');
    return { 'wasi:clocks/monotonic-clock': clocks.monotonicClock, 'wasi:clocks/wall-clock': clocks.wallClock } as unknown as WasiImports;
  },
  cli: async () => {
    const cli = await import('@bytecodealliance/preview2-shim/cli');
    return {
      // Nothing of the host's: the env capability gives the granted names and argv = [plugin name].
      'wasi:cli/environment': { getEnvironment: () => [], getArguments: () => [], initialCwd: () => undefined },
      'wasi:cli/exit': cli.exit,
      'wasi:cli/stderr': cli.stderr,
      'wasi:cli/stdin': cli.stdin,
      'wasi:cli/stdout': cli.stdout,
      'wasi:cli/terminal-input': cli.terminalInput,
      'wasi:cli/terminal-output': cli.terminalOutput,
      'wasi:cli/terminal-stderr': cli.terminalStderr,
      'wasi:cli/terminal-stdin': cli.terminalStdin,
      'wasi:cli/terminal-stdout': cli.terminalStdout,
    } as unknown as WasiImports;
  },
  sockets: async () => {
    const s = await import('@bytecodealliance/preview2-shim/sockets');
    return {
      'wasi:sockets/instance-network': s.instanceNetwork,
      'wasi:sockets/ip-name-lookup': s.ipNameLookup,
      'wasi:sockets/network': s.network,
      'wasi:sockets/tcp': s.tcp,
      'wasi:sockets/tcp-create-socket': s.tcpCreateSocket,
      'wasi:sockets/udp': s.udp,
      'wasi:sockets/udp-create-socket': s.udpCreateSocket,
    } as unknown as WasiImports;
  },
  http: async () => {
    const http = await import('@bytecodealliance/preview2-shim/http');
    // Closed as WASIShim's enableNetwork: false closes it; the network capability decides.
    return { 'wasi:http/types': http.types, 'wasi:http/outgoing-handler': { ...http.outgoingHandler, handle: deniedHandle } } as unknown as WasiImports;
  },
};

/** The families whose resources live on the shim's IO thread: their pollables and streams are the shim's. */
const THREADED = /^wasi:(http|sockets)\//;

/** `wasi:cli/stdout` -> `cli`; with `own`, the families ./own-io.ts provides are `own`. */
function familyOf(iface: string, own: boolean): Family | undefined {
  const m = /^wasi:([a-z]+)\//.exec(iface);
  const f = m?.[1];
  if (f === undefined || f === 'own' || !Object.hasOwn(FAMILIES, f)) return undefined;
  return own && (f === 'io' || f === 'clocks' || f === 'cli') ? 'own' : (f as Family);
}

const loaded = new Map<Family, Promise<WasiImports>>();

/**
 * The baseline for a component importing `interfaces` (unversioned WASI
 * interface names; undefined: not known, so every family). Each family loads
 * once per thread; the objects are shared (they hold no per-instance state:
 * every stateful interface is a capability's).
 */
export async function baselineWasi(interfaces?: readonly string[]): Promise<WasiImports> {
  const own = interfaces !== undefined && !interfaces.some((i) => THREADED.test(i));
  const families = new Set<Family>(own ? ['own'] : ['io', 'clocks']);
  if (interfaces === undefined) for (const f of Object.keys(FAMILIES) as Family[]) f === 'own' || families.add(f);
  else
    for (const i of interfaces) {
      const f = familyOf(i, own);
      if (f !== undefined) families.add(f);
    }
  const parts = await Promise.all(
    [...families].map((f) => {
      let p = loaded.get(f);
      if (p === undefined) {
        p = FAMILIES[f]();
        loaded.set(f, p);
      }
      return p;
    }),
  );
  return Object.assign({}, ...parts) as WasiImports;
}
