/**
 * What a hostile registry may make this process request (src/trust/oci/client.ts): a redirect is followed only
 * to the registry's own origin or a public https host, and an upload goes only to the registry itself. Against
 * a small registry stand-in on loopback that answers with such redirects and records every request it gets.
 */
import test from 'ava';
import dns from 'node:dns';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { isAirlockError } from '../../../src/errors.ts';
import { parseReference, Registry } from '../../../src/trust/oci/index.ts';

async function server(
  t: import('ava').ExecutionContext,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ port: number; seen: string[] }> {
  const seen: string[] = [];
  const s = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    handle(req, res);
  });
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  t.teardown(() => new Promise<void>((r) => s.close(() => r())));
  return { port: (s.address() as AddressInfo).port, seen };
}

test('a manifest read redirected to another loopback origin is refused, and nothing is requested there', async (t) => {
  const elsewhere = await server(t, (_req, res) => res.end('{}'));
  const registry = await server(t, (_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${elsewhere.port}/internal` }).end());
  const ref = parseReference(`127.0.0.1:${registry.port}/plugins/echo:1`);
  const err = await t.throwsAsync(new Registry(ref).getManifest('1'));
  t.true(isAirlockError(err, 'registry-error'), String(err));
  t.regex(err?.message ?? '', /redirected to http:\/\/127\.0\.0\.1:\d+, which is not the registry nor a public https host; refused/);
  t.deepEqual(elsewhere.seen, []);
});

test('a redirect within the registry is followed', async (t) => {
  const manifest = JSON.stringify({ schemaVersion: 2 });
  const registry = await server(t, (req, res) => {
    if (req.url?.endsWith('/manifests/1')) res.writeHead(307, { location: '/v2/plugins/echo/manifests/moved' }).end();
    else res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(manifest);
  });
  const ref = parseReference(`127.0.0.1:${registry.port}/plugins/echo:1`);
  const got = await new Registry(ref).getManifest('1');
  t.is(got.bytes.toString(), manifest);
  t.deepEqual(registry.seen, ['GET /v2/plugins/echo/manifests/1', 'GET /v2/plugins/echo/manifests/moved']);
});

test('an upload Location on another host is refused before any byte is sent there', async (t) => {
  const elsewhere = await server(t, (_req, res) => res.writeHead(201).end());
  const registry = await server(t, (req, res) => {
    if (req.method === 'HEAD') res.writeHead(404).end();
    else res.writeHead(202, { location: `http://127.0.0.1:${elsewhere.port}/upload` }).end();
  });
  const ref = parseReference(`127.0.0.1:${registry.port}/plugins/echo:1`);
  const err = await t.throwsAsync(new Registry(ref).pushBlob(Buffer.from('layer'), 'application/wasm'));
  t.true(isAirlockError(err, 'registry-error'), String(err));
  t.regex(err?.message ?? '', /the upload Location points at http:\/\/127\.0\.0\.1:\d+, not the registry; refused/);
  t.deepEqual(elsewhere.seen, []);
});

// ---- hunt (hostile data) ----
test('a blob read redirected to an https name that resolves to loopback is refused where it would connect: nothing connects there', async (t) => {
  // The name resolves to 127.0.0.1 in this process only (as a DNS answer the registry's owner controls would).
  const name = 'cdn.registry-hunt.test';
  const original = dns.lookup;
  (dns as { lookup: unknown }).lookup = (host: string, options: unknown, callback?: unknown): void => {
    const cb = (typeof options === 'function' ? options : callback) as (...a: unknown[]) => void;
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
    if (host !== name) return void (original as (...a: unknown[]) => void)(host, options, callback);
    if (all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
    else cb(null, '127.0.0.1', 4);
  };
  t.teardown(() => {
    (dns as { lookup: unknown }).lookup = original;
  });
  const connections: string[] = [];
  const inside = createNetServer((socket) => {
    connections.push(String(socket.remoteAddress));
    socket.destroy();
  });
  inside.listen(0, '127.0.0.1');
  await once(inside, 'listening');
  t.teardown(() => new Promise<void>((r) => inside.close(() => r())));
  const internal = (inside.address() as AddressInfo).port;
  const digest = `sha256:${'a'.repeat(64)}`;
  const registry = await server(t, (_req, res) => res.writeHead(307, { location: `https://${name}:${internal}/blob` }).end());
  const ref = parseReference(`127.0.0.1:${registry.port}/plugins/echo:1`);
  const err = await t.throwsAsync(new Registry(ref).getBlob({ mediaType: 'application/wasm', digest, size: 4 }, 1024));
  t.true(isAirlockError(err, 'registry-error'), String(err));
  t.regex(err?.message ?? '', /redirected to https:\/\/cdn\.registry-hunt\.test:\d+, whose name resolves to 127\.0\.0\.1, a loopback address; refused/);
  t.deepEqual(connections, []);
});
