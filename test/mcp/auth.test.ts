/**
 * Bearer-token authentication of MCP over HTTP (src/mcp/auth.ts and
 * serveHttp's `token`), against the real server driven by the SDK client:
 * without the right token nothing is reached, not a session, not a body
 * parse, not an engine.
 */
import type { IncomingMessage } from 'node:http';
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { isAirlockError } from '../../src/errors.ts';
import { PluginHost } from '../../src/host/index.ts';
import { bearerCheck, isLoopbackHost, serveHttp, type RunningHttpServer } from '../../src/mcp/index.ts';
import { CountingProvider, fixture } from '../host/helpers.ts';
import { rawRequest, withToken } from './helpers.ts';

let host: PluginHost;
let engines: CountingProvider;
let server: RunningHttpServer;

test.before(async () => {
  engines = new CountingProvider();
  host = new PluginHost({ provider: engines });
  await host.load(fixture('echo-c'));
  server = await serveHttp(host);
});

test.after.always(async () => {
  await server?.close();
  await host?.close();
});

const ADD = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo-c_add', arguments: { a: 1, b: 2 } } };

/** Connects the SDK client with these transport options and calls echo-c_add. */
async function callAdd(url: string, options: ConstructorParameters<typeof StreamableHTTPClientTransport>[1] = {}): Promise<CallToolResult> {
  const client = new Client({ name: 'auth-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), options));
  try {
    return (await client.callTool({ name: 'echo-c_add', arguments: { a: 20, b: 22 } })) as CallToolResult;
  } finally {
    await client.close();
  }
}

test.serial('auth: a tool call with no token, a wrong token or a token of another length is refused 401; the right token calls the tool', async (t) => {
  const token = server.token ?? '';
  t.regex(token, /^[A-Za-z0-9_-]{43}$/, 'a generated token is 32 random bytes in base64url');
  const before = engines.calls.length;
  const wrongSameLength = `${token[0] === 'A' ? 'B' : 'A'}${token.slice(1)}`;
  for (const [what, options] of [
    ['no token', {}],
    ['a wrong token of the same length', withToken(wrongSameLength)],
    ['a longer token', withToken(`${token}x`)],
    ['a shorter token', withToken(token.slice(0, 20))],
    ['the token under another scheme', { requestInit: { headers: { Authorization: `Basic ${token}` } } }],
  ] as const) {
    const error = await t.throwsAsync(callAdd(server.url, options), undefined, what);
    t.true(error instanceof StreamableHTTPError && error.code === 401, `${what}: ${String(error)}`);
  }
  t.is(engines.calls.length, before, 'no refused client reached an engine');
  const sum = await callAdd(server.url, withToken(token));
  t.deepEqual(sum.content, [{ type: 'text', text: '42' }]);
});

test('auth: a missing and a wrong token get the same 401 answer, with WWW-Authenticate: Bearer and a JSON-RPC error', async (t) => {
  const token = server.token ?? '';
  const answers = await Promise.all(
    (
      [{}, { authorization: 'Bearer nope' }, { authorization: `Bearer ${token}${token}` }, { authorization: `Basic ${token}` }, { authorization: '' }] as Array<
        Record<string, string>
      >
    ).map((h) => rawRequest(server.url, h)),
  );
  for (const a of answers) {
    t.is(a.status, 401);
    t.regex(String(a.headers['www-authenticate']), /^Bearer\b/);
    t.is(a.body, answers[0]?.body ?? '');
    t.is(a.session, undefined);
  }
  const body = JSON.parse(answers[0]?.body ?? '') as { jsonrpc: string; error: { code: number; message: string }; id: null };
  t.is(body.jsonrpc, '2.0');
  t.is(body.id, null);
  t.regex(body.error.message, /bearer token/);
  t.false(body.error.message.includes(token));
});

test.serial('auth: a session id without the token is refused 401 before the session or the body is looked at', async (t) => {
  const transport = new StreamableHTTPClientTransport(new URL(server.url), withToken(server.token));
  const client = new Client({ name: 'auth-test', version: '1.0.0' });
  await client.connect(transport);
  t.teardown(() => client.close());
  const session = transport.sessionId ?? '';
  t.not(session, '');
  const before = engines.calls.length;
  const stolen = { 'mcp-session-id': session };
  t.is((await rawRequest(server.url, stolen, ADD)).status, 401, 'a call in the session');
  t.is((await rawRequest(server.url, { ...stolen, authorization: 'Bearer wrong' }, ADD)).status, 401, 'with a wrong token');
  // A body that does not parse would be 400 if it were read: it is never read.
  t.is((await rawRequest(server.url, stolen, undefined)).status, 401, 'an unparsable body');
  t.is((await rawRequest(server.url, stolen, undefined, 'GET')).status, 401, 'the notification stream');
  t.is((await rawRequest(server.url, stolen, undefined, 'DELETE')).status, 401, 'ending the session');
  t.is((await rawRequest(server.url, { 'mcp-session-id': 'no-such-session' }, ADD)).status, 401, 'an unknown session says nothing either');
  t.is(engines.calls.length, before, 'no refused request reached an engine');
  // The DELETE was refused: the session still works for its owner.
  const sum = (await client.callTool({ name: 'echo-c_add', arguments: { a: 1, b: 2 } })) as CallToolResult;
  t.deepEqual(sum.content, [{ type: 'text', text: '3' }]);
});

test('auth: bearerCheck accepts exactly the token, the scheme in any case', (t) => {
  const token = 'a-token-of-20-chars!';
  const check = bearerCheck(token);
  const req = (authorization?: string): IncomingMessage => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;
  t.true(check(req(`Bearer ${token}`)));
  t.true(check(req(`bearer ${token}`)));
  for (const h of [
    undefined,
    '',
    'Bearer',
    'Bearer ',
    `Bearer ${token} extra`,
    `Bearer ${token.toUpperCase()}`,
    `Bearer ${token.slice(0, -1)}`,
    `Token ${token}`,
    token,
  ])
    t.false(check(req(h)), String(h));
  t.false(bearerCheck('')(req('Bearer ')), 'an empty token never matches');
});

test('auth: token false (no auth) is refused on a non-loopback bind, and on loopback serves without a token', async (t) => {
  for (const h of ['0.0.0.0', '::', '192.0.2.1']) {
    const error = await t.throwsAsync(serveHttp(host, { host: h, token: false }));
    t.true(isAirlockError(error) && error.code === 'permission-denied', h);
    t.regex(error?.message ?? '', /without authentication/);
  }
  const open = await serveHttp(host, { token: false });
  t.teardown(() => open.close());
  t.is(open.token, undefined);
  const sum = await callAdd(open.url);
  t.deepEqual(sum.content, [{ type: 'text', text: '42' }]);
});

test('auth: a given token is used; one shorter than 16 characters is refused', async (t) => {
  const given = await serveHttp(host, { token: 'my-own-token-0123456789' });
  t.teardown(() => given.close());
  t.is(given.token, 'my-own-token-0123456789');
  t.deepEqual((await callAdd(given.url, withToken('my-own-token-0123456789'))).content, [{ type: 'text', text: '42' }]);
  const error = await t.throwsAsync(serveHttp(host, { token: 'short' }));
  t.true(isAirlockError(error) && error.code === 'invalid-policy');
});

test('auth: each server generates its own token', async (t) => {
  const other = await serveHttp(host);
  t.teardown(() => other.close());
  t.not(other.token, server.token);
  const error = await t.throwsAsync(callAdd(other.url, withToken(server.token)));
  t.true(error instanceof StreamableHTTPError && error.code === 401);
});

test('auth: a wildcard bind prints a URL of this machine that is accepted with the token, and still refuses foreign Host names', async (t) => {
  const wide = await serveHttp(host, { host: '0.0.0.0' });
  t.teardown(() => wide.close());
  t.notRegex(wide.url, /0\.0\.0\.0/);
  t.deepEqual((await callAdd(wide.url, withToken(wide.token))).content, [{ type: 'text', text: '42' }]);
  const port = new URL(wide.url).port;
  const auth = { authorization: `Bearer ${wide.token ?? ''}` };
  t.is((await rawRequest(wide.url, { ...auth, host: `evil.example:${port}` })).status, 403);
  t.is((await rawRequest(wide.url, { ...auth, origin: 'http://evil.example' })).status, 403);
});

test('auth: isLoopbackHost knows loopback addresses and nothing else', (t) => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) t.true(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '192.168.1.2', '10.0.0.1', '::ffff:10.0.0.1', 'example.com', 'localhost.example.com', '128.0.0.1', ''])
    t.false(isLoopbackHost(h), h);
});
