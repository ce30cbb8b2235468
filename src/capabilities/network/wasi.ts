/**
 * Network for wasm guests.
 * - wasi:sockets is always denied: guests connect by IP address, so a host
 *   allowlist cannot hold there. Every entry point that could reach the
 *   network (socket creation, name lookup) fails with `access-denied`.
 * - wasi:http outgoing requests are denied unless grants.network is set;
 *   when it is, the handler checks scheme (http/https only), host and port
 *   against the allowlist before handing the request to preview2-shim
 *   (which has no allowlist of its own).
 */
import * as shim from '@bytecodealliance/preview2-shim';
import type { Grants } from '../../grants/types.ts';
import type { WasiContext, WasiImports } from '../types.ts';
import { isAllowed, parseAuthority } from './allow.ts';

/** The wasi:http error-code a denied request gets. */
export const HTTP_DENIED = { tag: 'HTTP-request-denied' } as const;

interface OutgoingRequestLike {
  scheme(): { tag: string; val?: string } | undefined;
  authority(): string | undefined;
}

type Handle = (request: OutgoingRequestLike, options: unknown) => unknown;

/** Wraps `inner` so that only requests the grant allows reach it. */
export function guardOutgoingHandler(grants: Grants, inner: Handle): Handle {
  return (request, options) => {
    const schemeTag = request.scheme()?.tag;
    const scheme = schemeTag === 'HTTPS' ? 'https' : schemeTag === 'HTTP' ? 'http' : undefined;
    const authority = request.authority();
    if (scheme === undefined || authority === undefined) throw HTTP_DENIED;
    const target = parseAuthority(scheme, authority);
    if (target === undefined || !isAllowed(grants.network, target)) throw HTTP_DENIED;
    return inner(request, options);
  };
}

const deny = (): never => {
  throw 'access-denied';
};

export function networkWasi(grants: Grants, ctx: WasiContext): WasiImports {
  const b = ctx.base;
  const realHandle = (shim.http.outgoingHandler as unknown as { handle: Handle }).handle;
  const inner: Handle = grants.network === null ? () => { throw HTTP_DENIED; } : realHandle;
  return {
    'wasi:sockets/tcp-create-socket': { ...b['wasi:sockets/tcp-create-socket'], createTcpSocket: deny },
    'wasi:sockets/udp-create-socket': { ...b['wasi:sockets/udp-create-socket'], createUdpSocket: deny },
    'wasi:sockets/ip-name-lookup': { ...b['wasi:sockets/ip-name-lookup'], resolveAddresses: deny },
    'wasi:http/outgoing-handler': { handle: guardOutgoingHandler(grants, inner) },
  };
}
