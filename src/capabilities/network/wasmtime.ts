/**
 * Network for wasmtime: everything off, explicitly (the CLI's defaults
 * already deny socket addresses and leave wasi:http out, but allow creating
 * TCP/UDP sockets). The CLI has no allowlist: `-S inherit-network` opens
 * every address and `-S http` every host, so any network grant is refused.
 */
import type { WasmtimeContribution } from '../types.ts';
import type { Grants } from '../../grants/types.ts';

export function networkWasmtime(grants: Grants): WasmtimeContribution {
  const args = ['-S', 'inherit-network=n', '-S', 'allow-ip-name-lookup=n', '-S', 'tcp=n', '-S', 'udp=n', '-S', 'http=n'];
  if (grants.network === null) return { args };
  const hosts = grants.network.allow.map((h) => `${h.wildcard ? '*.' : ''}${h.host}${h.port === undefined ? '' : `:${h.port}`}`).join(', ');
  return {
    args,
    refuse: [
      `network: the plugin is granted ${hosts || 'network access'}, but the wasmtime CLI cannot restrict outgoing traffic to an allowlist (-S inherit-network and -S http allow every host); use the worker engine (engine: wasm)`,
    ],
  };
}

/**
 * The component-dependent half: what its imports need. `-S http` links all
 * of wasi:http, but only `wasi:http/outgoing-handler` sends anything; a
 * component that imports just `wasi:http/types` (every componentize-js
 * component does, even with the http feature disabled) cannot reach the
 * handler, so linking it is safe. A component importing the handler is
 * refused: the CLI cannot enforce an allowlist (nor deny requests) on it.
 * Later `-S` values win, so `http=y` here overrides `http=n` above.
 */
export function networkWasmtimeImports(imports: readonly string[]): WasmtimeContribution {
  const http = imports.filter((i) => i.startsWith('wasi:http/'));
  if (http.length === 0) return {};
  const unsafe = http.filter((i) => !/^wasi:http\/types(@|$)/.test(i));
  if (unsafe.length > 0) {
    return {
      refuse: [
        `network: the component imports ${unsafe.join(', ')}; the wasmtime CLI provides wasi:http only without an allowlist (-S http), so it cannot enforce this plugin's network grant; use the worker engine (engine: wasm)`,
      ],
    };
  }
  return { args: ['-S', 'http=y'] };
}
