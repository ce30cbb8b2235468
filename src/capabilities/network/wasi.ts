/**
 * Network for wasm guests.
 * - wasi:sockets is always denied: guests connect by IP address, so a host
 *   allowlist cannot hold there. Every entry point that could reach the
 *   network (socket creation, name lookup) fails with `access-denied`.
 * - wasi:http outgoing requests are denied unless grants.network is set;
 *   when it is, the handler checks scheme (http/https only), host and port
 *   against the allowlist, then sends the request through the plugin's
 *   egress route (./route.ts: Airlock's egress proxy on loopback), never
 *   straight out through preview2-shim (which would resolve the name itself
 *   and connect to any address, private ones included). The proxy resolves
 *   once, checks every address and connects to it; its refusals come back to
 *   the guest as wasi:http error codes.
 */
import { outgoingHandler } from '@bytecodealliance/preview2-shim/http';
import type { Grants } from '../../grants/types.ts';
import type { RefusedRequest, WasiContext, WasiImports, WasiPart } from '../types.ts';
import { isAllowed, parseAuthority } from './allow.ts';
import type { EgressRoute } from './route.ts';

/** Refused requests a call's usage lists. */
const MAX_REFUSED_KEPT = 32;

/** The wasi:http error-code a denied request gets. */
export const HTTP_DENIED = { tag: 'HTTP-request-denied' } as const;

interface OutgoingRequestLike {
  scheme(): { tag: string; val?: string } | undefined;
  authority(): string | undefined;
  pathWithQuery?(): string | undefined;
  setScheme?(scheme: { tag: string }): void;
  setAuthority?(authority: string): void;
  setPathWithQuery?(path: string): void;
}

type Handle = (request: OutgoingRequestLike, options: unknown) => unknown;

interface FieldsLike {
  get(name: string): Uint8Array[];
}
interface IncomingResponseLike {
  status(): number;
  headers(): FieldsLike;
}
type FutureResult = undefined | { tag: 'ok'; val: { tag: 'ok'; val: IncomingResponseLike } | { tag: 'err'; val: unknown } } | { tag: 'err'; val: unknown };

/** The wasi:http error code for each answer of the egress proxy's own (X-Airlock-Egress: <code>). */
function proxyErrorCode(code: string): unknown {
  switch (code) {
    case 'private-address':
      return { tag: 'destination-IP-prohibited' };
    case 'resolve-failed':
      return { tag: 'DNS-error', val: { rcode: undefined, infoCode: undefined } };
    case 'connect-failed':
      return { tag: 'connection-refused' };
    case 'connect-timeout':
      return { tag: 'connection-timeout' };
    case 'tls-failed':
      return { tag: 'TLS-certificate-error' };
    default:
      return HTTP_DENIED;
  }
}

/** Turns the proxy's own refusals and failures (marked by X-Airlock-Egress, which no destination can send) into error codes. */
function mapProxyAnswers(future: unknown): unknown {
  const f = future as { get(): FutureResult };
  if (typeof f?.get !== 'function') return future;
  const get = f.get;
  f.get = (): FutureResult => {
    const r = get.call(f);
    if (r === undefined || r.tag !== 'ok' || r.val.tag !== 'ok') return r;
    const marker = r.val.val.headers().get('x-airlock-egress')[0];
    if (marker === undefined) return r;
    return { tag: 'ok', val: { tag: 'err', val: proxyErrorCode(new TextDecoder().decode(marker)) } };
  };
  return future;
}

/**
 * Wraps `inner` so that only requests the grant allows reach it, each
 * rewritten to go through `route` (absolute form, `http://TOKEN@host:port/path`
 * or `https://...`, sent as plain HTTP to the proxy). Without a route every
 * request is denied: a worker never sends straight out.
 */
export function guardOutgoingHandler(
  grants: Grants,
  inner: Handle,
  route: EgressRoute | undefined,
  onRefused: (refused: RefusedRequest) => void = () => {},
): Handle {
  return (request, options) => {
    const schemeTag = request.scheme()?.tag;
    const scheme = schemeTag === 'HTTPS' ? 'https' : schemeTag === 'HTTP' ? 'http' : undefined;
    const authority = request.authority();
    if (scheme === undefined || authority === undefined) {
      onRefused({ code: 'bad-request' });
      throw HTTP_DENIED;
    }
    const target = parseAuthority(scheme, authority);
    if (target === undefined) {
      onRefused({ code: 'bad-request' });
      throw HTTP_DENIED;
    }
    if (!isAllowed(grants.network, target) || route === undefined) {
      onRefused({ host: target.host, port: target.port, code: 'not-allowed' });
      throw HTTP_DENIED;
    }
    // A request that cannot be rewritten onto the route is never sent as it is.
    if (request.pathWithQuery === undefined || request.setScheme === undefined || request.setAuthority === undefined || request.setPathWithQuery === undefined)
      throw HTTP_DENIED;
    const path = request.pathWithQuery();
    if (path === undefined || path === '') throw { tag: 'HTTP-request-URI-invalid' };
    // The shim accepts no IPv6 authority, so a target is a name or an IPv4 address here.
    request.setScheme({ tag: 'HTTP' });
    request.setAuthority(`${route.host}:${route.port}`);
    request.setPathWithQuery(`${scheme}://${route.token}@${target.host}:${target.port}${path.startsWith('/') ? path : `/${path}`}`);
    return mapProxyAnswers(inner(request, options));
  };
}

const deny = (): never => {
  throw 'access-denied';
};

export function networkWasi(grants: Grants, ctx: WasiContext): WasiImports {
  const b = ctx.base;
  const realHandle = (outgoingHandler as unknown as { handle: Handle }).handle;
  const inner: Handle =
    grants.network === null
      ? () => {
          throw HTTP_DENIED;
        }
      : realHandle;
  return {
    'wasi:sockets/tcp-create-socket': { ...b['wasi:sockets/tcp-create-socket'], createTcpSocket: deny },
    'wasi:sockets/udp-create-socket': { ...b['wasi:sockets/udp-create-socket'], createUdpSocket: deny },
    'wasi:sockets/ip-name-lookup': { ...b['wasi:sockets/ip-name-lookup'], resolveAddresses: deny },
    'wasi:http/outgoing-handler': {
      handle: guardOutgoingHandler(grants, inner, ctx.shared.network as EgressRoute | undefined, (refused) => {
        // The call's usage lists them (bounded: a guest may ask without end).
        const list = ctx.call.egressRefused;
        if (list !== undefined && list.length < MAX_REFUSED_KEPT) list.push(refused);
      }),
    },
  };
}

export const wasiPart: WasiPart = {
  wasi: networkWasi,
  // The call's refused requests (its usage) start empty.
  beginCall: (_grants, call) => {
    call.egressRefused?.splice(0);
  },
};
