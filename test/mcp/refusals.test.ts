/**
 * What a refused HTTP client is told (src/mcp/server.ts): the library's own
 * words, plus the hint of whatever runs the server (the CLI names its flags;
 * the library names none).
 */
import test from 'ava';
import { serveHttp } from '../../src/mcp/index.ts';
import { rawRequest } from './helpers.ts';

const source = { tools: () => [], call: () => Promise.reject(new Error('no tools')) };
const TOKEN = 'refusal-test-token-0123456789';

async function refusals(t: { teardown(fn: () => Promise<void>): void }, hints?: { host?: string; token?: string }): Promise<{ host: string; token: string }> {
  const server = await serveHttp(source, { token: TOKEN, ...(hints === undefined ? {} : { refusalHints: hints }) });
  t.teardown(() => server.close());
  const message = (body: string): string => (JSON.parse(body) as { error: { message: string } }).error.message;
  const host = await rawRequest(server.url, { host: 'evil.example', authorization: `Bearer ${TOKEN}` });
  const token = await rawRequest(server.url, {});
  return { host: `${host.status} ${message(host.body)}`, token: `${token.status} ${message(token.body)}` };
}

test('without hints, refusals name no command-line flag', async (t) => {
  const { host, token } = await refusals(t);
  t.is(host, '403 Host "evil.example" is not allowed (allowed: localhost, 127.0.0.1, [::1])');
  t.is(token, '401 missing or wrong bearer token: send Authorization: Bearer <token>');
});

test("with hints, each refusal carries the front end's words", async (t) => {
  const { host, token } = await refusals(t, { host: 'add more with --allow-host', token: 'airlock serve prints where its token is' });
  t.is(host, '403 Host "evil.example" is not allowed (allowed: localhost, 127.0.0.1, [::1]; add more with --allow-host)');
  t.is(token, '401 missing or wrong bearer token: send Authorization: Bearer <token> (airlock serve prints where its token is)');
});
