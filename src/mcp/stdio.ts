/**
 * The SDK's stdio server transport, answering what it cannot read: a line
 * that is not JSON gets a -32700 Parse error, a request that is JSON but not
 * JSON-RPC a -32600 Invalid Request (with its id when it has one), as JSON-RPC
 * 2.0 §5.1 says. The SDK only reports both to `onerror` and drops the line, so
 * a client waiting on that id hangs (modelcontextprotocol/typescript-sdk#2247).
 * Only line reading is replaced; start, close and send are the SDK's.
 */
import process from 'node:process';
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ErrorCode, type JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';

/** A line longer than this ends the connection, as in the SDK (whose default it is). */
const MAX_LINE_BYTES = 10 * 1024 * 1024;

export class AnsweringStdioTransport extends StdioServerTransport {
  #buffer: Buffer = Buffer.alloc(0);

  constructor(stdin: Readable = process.stdin, stdout: Writable = process.stdout) {
    super(stdin, stdout);
    // start() and close() attach and detach this very function.
    this._ondata = (chunk: Buffer) => this.#take(chunk);
  }

  #take(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (let end = this.#buffer.indexOf(0x0a); end >= 0; end = this.#buffer.indexOf(0x0a)) {
      const line = this.#buffer.toString('utf8', 0, end).replace(/\r$/, '');
      this.#buffer = this.#buffer.subarray(end + 1);
      this.#line(line);
    }
    if (this.#buffer.length > MAX_LINE_BYTES) {
      this.#buffer = Buffer.alloc(0);
      this.onerror?.(new Error(`a message is over ${MAX_LINE_BYTES} bytes`));
      this.close().catch(() => undefined);
    }
  }

  #line(line: string): void {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      this.onerror?.(err instanceof Error ? err : new Error(String(err)));
      return this.#answer(null, ErrorCode.ParseError, 'Parse error: the line is not JSON');
    }
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (parsed.success) return this.onmessage?.(parsed.data);
    this.onerror?.(new Error(`not a JSON-RPC message: ${parsed.error.message}`));
    // Only a request is answered: answering a malformed response or notification could start an error ping-pong.
    const o = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    if (o !== undefined && !('method' in o) && ('result' in o || 'error' in o)) return;
    if (o !== undefined && !('id' in o) && 'method' in o) return;
    const id = typeof o?.id === 'string' || typeof o?.id === 'number' ? o.id : null;
    this.#answer(id, ErrorCode.InvalidRequest, 'Invalid Request: not a JSON-RPC 2.0 message');
  }

  #answer(id: string | number | null, code: number, message: string): void {
    // JSON-RPC wants `"id": null` when the id cannot be read; the SDK's type leaves id out instead.
    this.send({ jsonrpc: '2.0', id, error: { code, message } } as unknown as JSONRPCMessage).catch(() => undefined);
  }
}
