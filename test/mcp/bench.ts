/**
 * `node test/mcp/bench.ts`: what each layer above the engine costs for one
 * small call (the C echo fixture on the wasm worker engine): the engine alone,
 * PluginHost.call (schema check, agent queue, JSON parse), and a tool call
 * through the MCP SDK client over streamable HTTP and over stdio (`airlock
 * serve --mcp` in a child process). Over HTTP twice: with the bearer token
 * checked on every request (the default) and with authentication off
 * (token: false, loopback only), so the difference is the check's cost.
 * Prints a Markdown table. Not a test:
 * figures depend on the machine (BENCH_N calls per row, default 2000).
 */
import type { IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { percentile as pct, sampleLatency } from '../../src/bench/index.ts';
import { PluginHost } from '../../src/host/index.ts';
import { bearerCheck, generateToken, serveHttp } from '../../src/mcp/index.ts';
import { CountingProvider } from '../host/helpers.ts';
import { withToken } from './helpers.ts';

const N = Number(process.env.BENCH_N ?? 2000);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ECHO_C = fileURLToPath(new URL('../../fixtures/plugins/echo-c', import.meta.url));
const INPUT = { message: 'hello' };

async function measure(call: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(200, N); i++) await call(); // warm-up
  return sampleLatency(call, { samples: N, ms: Number.POSITIVE_INFINITY });
}

const rows: Array<[string, number[]]> = [];
const engines = new CountingProvider();
const host = new PluginHost({ provider: engines });
await host.load(ECHO_C);
// The engine alone: the instance the host opened, called directly.
const instance = (await engines.inner.open((await import('../../src/manifest/index.ts')).loadPlugin(ECHO_C), host.plugins()[0]!.grants, 'auto')).instance;
const text = JSON.stringify(INPUT);
rows.push(['engine (EnginePlugin.call)', await measure(() => instance.call('echo', text))]);
await instance.close();
rows.push(['PluginHost.call', await measure(() => host.call('echo-c_echo', INPUT))]);

// With and without the token, interleaved in rounds so a busy machine weighs on both alike.
const variants = await Promise.all(
  (
    [
      ['MCP callTool, streamable HTTP, bearer token', undefined],
      ['MCP callTool, streamable HTTP, no auth (loopback)', false],
    ] as const
  ).map(async ([label, token]) => {
    const http = await serveHttp(host, { token });
    const client = new Client({ name: 'bench', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(http.url), http.token === undefined ? {} : withToken(http.token)));
    return { label, http, client, samples: [] as number[], call: () => client.callTool({ name: 'echo-c_echo', arguments: INPUT }) };
  }),
);
const ROUNDS = 10;
for (const v of variants) for (let i = 0; i < Math.min(200, N); i++) await v.call(); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const v of variants) v.samples.push(...(await sampleLatency(v.call, { samples: Math.ceil(N / ROUNDS), ms: Number.POSITIVE_INFINITY })));
}
for (const v of variants) {
  rows.push([v.label, v.samples]);
  await v.client.close();
  await v.http.close();
}
// The check alone, as serveHttp runs it on every request.
const check = bearerCheck(generateToken());
const req = { headers: { authorization: `Bearer ${generateToken()}` } } as unknown as IncomingMessage;
// CPU time, not wall time: on a busy machine wall time measures the scheduler. The fastest of 20 batches.
const CHECKS = 5000;
let checkNs = Number.POSITIVE_INFINITY;
for (let batch = 0; batch < 20; batch++) {
  const started = process.cpuUsage();
  for (let i = 0; i < CHECKS; i++) check(req);
  const used = process.cpuUsage(started);
  checkNs = Math.min(checkNs, ((used.user + used.system) * 1000) / CHECKS);
}

const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
const stdioClient = new Client({ name: 'bench', version: '1.0.0' });
await stdioClient.connect(
  new StdioClientTransport({ command: process.execPath, args: ['src/cli/main.ts', 'serve', '--mcp', ECHO_C], cwd: ROOT, env, stderr: 'ignore' }),
);
rows.push(['MCP callTool, stdio (airlock serve)', await measure(() => stdioClient.callTool({ name: 'echo-c_echo', arguments: INPUT }))]);
await stdioClient.close();
await host.close();

const us = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`;
console.log(`\n## One echo call through each layer (echo-c, wasm worker engine, ${N} sequential calls, Node ${process.versions.node})\n`);
console.log('| layer | p50 | p90 | p99 |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, s] of rows) console.log(`| ${name} | ${us(pct(s, 50))} | ${us(pct(s, 90))} | ${us(pct(s, 99))} |`);
console.log(
  `\nThe bearer-token check alone (sha256 of the presented token, timingSafeEqual of digests): ${checkNs.toFixed(0)} ns of CPU per request (fastest of 20 batches of ${CHECKS}).`,
);
