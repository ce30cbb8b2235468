/** What the MCP tests share: sending a bearer token, and raw HTTP requests to the server. */
import { request } from 'node:http';

/** StreamableHTTPClientTransport options that send `token` as the bearer token. */
export function withToken(token: string | undefined): { requestInit: RequestInit } {
  return { requestInit: { headers: { Authorization: `Bearer ${token ?? ''}` } } };
}

export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
};

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  session: string | undefined;
}

/**
 * One request with exactly these headers (plus content-type and accept), read
 * to the end. Each on a connection of its own (`agent: false`): a kept-alive
 * socket that the server closes as the next request goes out fails that request
 * with ECONNRESET (the keep-alive race of Node's HTTP agent, nodejs/node#47130),
 * which says nothing about the status these tests check.
 */
export function rawRequest(url: string, headers: Record<string, string>, body: unknown = INITIALIZE, method = 'POST'): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, agent: false, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } },
      (res) => {
        const session = res.headers['mcp-session-id'];
        let text = '';
        const done = (): void =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, session: Array.isArray(session) ? session[0] : session });
        // An SSE reply may stay open: its first chunk is enough to know what it says.
        const sse = res.headers['content-type']?.startsWith('text/event-stream') === true;
        res.on('data', (d: Buffer) => {
          text += d.toString();
          if (sse) done();
        });
        res.on('end', done);
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
