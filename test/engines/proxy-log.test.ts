/**
 * The egress proxy's log as the Docker and Kubernetes engines read it back (src/engines/proxy-log.ts): the proxy
 * runs beside the plugin, on its network, so its lines are checked like any data from a container: a
 * decision of another shape is dropped, and a line that never ends holds at most the line bound.
 */
import test from 'ava';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MAX_LOG_LINE, ProxyLog } from '../../src/engines/proxy-log.ts';
import type { EgressDecision } from '../../src/egress/index.ts';

function log(): { reader: ProxyLog; decisions: EgressDecision[]; listening: () => number } {
  const decisions: EgressDecision[] = [];
  let listening = 0;
  const reader = new ProxyLog({ onListening: () => listening++, onDecision: (d) => decisions.push(d) });
  return { reader, decisions, listening: () => listening };
}

const allowed = {
  decision: 'allowed',
  kind: 'connect',
  host: 'api.example.com',
  port: 443,
  address: '192.0.2.1',
  rule: 'api.example.com:443',
  reason: 'CONNECT api.example.com:443',
  client: '10.0.0.2:40000',
};

test('proxy log: listening and well-formed decisions are read, across chunks', (t) => {
  const l = log();
  const text = `${JSON.stringify({ time: 't', event: 'listening', host: '0.0.0.0', port: 3128 })}\n${JSON.stringify({ time: 't', event: 'decision', ...allowed })}\n`;
  l.reader.push(Buffer.from(text.slice(0, 30)));
  l.reader.push(Buffer.from(text.slice(30)));
  t.is(l.listening(), 1);
  t.deepEqual(l.decisions, [allowed]);
});

test('proxy log: a decision of another shape is dropped, not passed on as one (a proxy the plugin took over)', (t) => {
  const l = log();
  for (const bad of [
    { ...allowed, decision: '__proto__' },
    { ...allowed, decision: 'constructor' },
    { ...allowed, host: { toString: 1 } },
    { ...allowed, port: 'x' },
    { ...allowed, client: undefined },
    { decision: 'refused', kind: 'unknown', code: 'x', status: 'nope', reason: 'r', client: 'c' },
    { ...allowed, reason: 'r'.repeat(MAX_LOG_LINE) },
  ])
    l.reader.push(Buffer.from(`${JSON.stringify({ event: 'decision', ...bad })}\n`));
  l.reader.push(Buffer.from('not json\n{"event":"decision"}\n'));
  t.deepEqual(l.decisions, []);
});

test('proxy log: a line that never ends holds at most the line bound; the next line is read', (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const l = log();
  const junk = Buffer.alloc(1024 * 1024, 0x61);
  gc();
  const before = process.memoryUsage();
  for (let i = 0; i < 64; i++) l.reader.push(junk);
  gc();
  const after = process.memoryUsage();
  const held = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
  t.true(held < 8 * 1024 * 1024, `${held} bytes held for a 64 MiB line`);
  l.reader.push(Buffer.from(`\n${JSON.stringify({ event: 'decision', ...allowed })}\n`));
  t.deepEqual(l.decisions, [allowed]);
});
