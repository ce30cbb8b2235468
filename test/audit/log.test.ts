/**
 * The audit log: every load, call and egress decision is a hash-chained JSON
 * line; `airlock audit verify` names a line that was edited or removed; no
 * call input or env value is written unless inputs are asked for.
 */
import test from 'ava';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EgressWindow } from '../../src/audit/egress-window.ts';
import { AuditLog } from '../../src/audit/log.ts';
import type { EgressDecision } from '../../src/egress/index.ts';
import { verifyAuditLog } from '../../src/audit/verify.ts';
import { PluginHost } from '../../src/host/index.ts';
import { cli as runCliCaptured } from '../helpers/cli.ts';
import { tempDir } from '../helpers/plugin.ts';
import { cPlugin, ECHO_SPIN_C } from '../host/helpers.ts';

const lines = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');

/** A log of `n` entries written by AuditLog itself. */
async function written(n: number): Promise<string> {
  const file = join(tempDir('airlock-audit-'), 'audit.jsonl');
  const log = new AuditLog({ file });
  for (let i = 0; i < n; i++) log.record('note', { i });
  await log.close();
  return file;
}

test('a host writes load, call and egress-free usage lines; inputs and env values stay out', async (t) => {
  const file = join(tempDir('airlock-audit-'), 'audit.jsonl');
  const dir = cPlugin(
    { name: 'echo-audit', permissions: { env: ['AUDIT_SECRET'] }, tools: [{ name: 'echo', description: 'echo', input: { type: 'object' } }] },
    ECHO_SPIN_C,
  );
  const host = new PluginHost({ engine: 'wasm', audit: { file }, policy: { env: ['AUDIT_SECRET'] }, env: { AUDIT_SECRET: 'hunter2-value' } });
  await host.load(dir);
  await host.call('echo-audit_echo', { card: '4111-secret-input' });
  await t.throwsAsync(host.call('echo-audit_nope', {}));
  await host.close();
  const text = readFileSync(file, 'utf8');
  t.false(text.includes('hunter2-value'), 'no env value');
  t.false(text.includes('4111-secret-input'), 'no input');
  const entries = lines(file).map((l) => JSON.parse(l) as Record<string, unknown>);
  t.like(entries[0], { seq: 1, type: 'load', agent: '', plugin: 'echo-audit', engine: 'wasm', outcome: 'ok', grants: { env: ['AUDIT_SECRET'] } });
  t.regex(String(entries[0]!.digest), /^[0-9a-f]{64}$/);
  t.like(entries[1], {
    seq: 2,
    type: 'call',
    plugin: 'echo-audit',
    tool: 'echo',
    outcome: 'ok',
    usage: { inputBytes: Buffer.byteLength(JSON.stringify({ card: '4111-secret-input' })) },
  });
  t.is(entries.length, 2, 'an unknown tool reaches no plugin and is not a call');
  t.deepEqual((await verifyAuditLog(file)).problems, []);
});

test('with inputs: true, a call line carries its input', async (t) => {
  const seen: Record<string, unknown>[] = [];
  const dir = cPlugin({ name: 'echo-inputs', tools: [{ name: 'echo', description: 'echo', input: { type: 'object' } }] }, ECHO_SPIN_C);
  const host = new PluginHost({ engine: 'wasm', audit: { onLine: (_l, e) => seen.push(e), inputs: true } });
  t.teardown(() => host.close());
  await host.load(dir);
  await host.call('echo-inputs_echo', { a: 1 });
  t.like(
    seen.find((e) => e.type === 'call'),
    { input: { a: 1 } },
  );
});

test('a policy refusal is a load line with each refused permission', async (t) => {
  const seen: Record<string, unknown>[] = [];
  const dir = cPlugin(
    { name: 'wants-net', permissions: { network: { allow: ['api.example.com'] } }, tools: [{ name: 'echo', description: 'e', input: { type: 'object' } }] },
    ECHO_SPIN_C,
  );
  const host = new PluginHost({ engine: 'wasm', audit: { onLine: (_l, e) => seen.push(e) } });
  t.teardown(() => host.close());
  await t.throwsAsync(host.load(dir));
  t.like(seen[0], { type: 'load', outcome: 'permission-denied', refusals: [{ path: 'permissions.network.allow[0]' }] });
});

test('audit verify: an edited line is named', async (t) => {
  const file = await written(5);
  const all = lines(file);
  all[2] = all[2]!.replace('"i":2', '"i":7');
  writeFileSync(file, `${all.join('\n')}\n`);
  const verdict = await verifyAuditLog(file);
  t.deepEqual(
    verdict.problems.map((p) => [p.line, p.kind]),
    [[3, 'altered']],
  );
  const cli = await runCliCaptured(['audit', 'verify', file]);
  t.is(cli.code, 1);
  t.regex(cli.stdout, /:3: altered: line 3 \(seq 3\) was altered/);
});

test('audit verify: a removed line is named', async (t) => {
  const file = await written(5);
  const all = lines(file);
  all.splice(1, 1);
  writeFileSync(file, `${all.join('\n')}\n`);
  const verdict = await verifyAuditLog(file);
  t.deepEqual(
    verdict.problems.map((p) => [p.line, p.kind, p.message]),
    [[2, 'removed', 'the line with seq 2 was removed (between line 1 and line 2)']],
  );
});

test('audit verify: a 20 MiB line put in place of one is named without being read whole, and the chain goes on after it', async (t) => {
  const file = await written(4);
  const all = lines(file);
  all[1] = 'x'.repeat(20 * 1024 * 1024);
  writeFileSync(file, `${all.join('\n')}\n`);
  const verdict = await verifyAuditLog(file);
  // Line 2 is unreadable (past the per-line bound); line 3 then records a hash line 2 no longer has.
  t.deepEqual(
    verdict.problems.map((p) => [p.line, p.kind]),
    [
      [2, 'unreadable'],
      [2, 'altered'],
    ],
  );
  t.regex(verdict.problems[0]?.message ?? '', /longer than 16777216 bytes/);
  t.is(verdict.lines, 4);
});

test('audit verify: an intact log passes, and a log reopened continues its chain', async (t) => {
  const file = await written(3);
  const log = new AuditLog({ file });
  log.record('note', { again: true });
  await log.close();
  const verdict = await verifyAuditLog(file);
  t.deepEqual(verdict.problems, []);
  t.is(verdict.lines, 4);
  t.is(verdict.head.seq, 4);
  const cli = await runCliCaptured(['audit', 'verify', file]);
  t.is(cli.code, 0);
  t.regex(cli.stdout, /^ok: 4 lines, head seq 4 sha256 [0-9a-f]{64}\n$/);
});

// ---- hunt (hostile data) ----
test('a manifest key with bidi and C1 control characters reaches the audit line escaped: the line reads as written, parses to the same text, and verifies', async (t) => {
  const dir = join(tempDir('airlock-audit-'), 'bidi');
  mkdirSync(dir);
  // U+202E reverses what follows on screen, U+009B is a one-character CSI, U+2028 a line break to some viewers.
  const key = 'evil\u202e\u009b31m\u2028x';
  writeFileSync(
    join(dir, 'plugin.yaml'),
    `apiVersion: airlock/v1\nname: bidi\nversion: 1.0.0\nruntime: wasm\nentry: x.wasm\n${JSON.stringify(key)}: 1\ntools:\n  - { name: echo, description: e, input: { type: object } }\n`,
  );
  const file = join(tempDir('airlock-audit-'), 'audit.jsonl');
  const seen: string[] = [];
  const host = new PluginHost({ engine: 'wasm', audit: { file, onLine: (l) => seen.push(l) } });
  await t.throwsAsync(host.load(dir));
  await host.close();
  const line = lines(file)[0]!;
  t.is(seen[0], line, 'every sink gets the same line');
  t.false(/[\u0080-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f]/.test(line), JSON.stringify(line));
  t.true(line.includes('evil\\u202e\\u009b31m\\u2028x'));
  const entry = JSON.parse(line) as { refusals: { path: string }[] };
  t.true(
    entry.refusals.some((r) => r.path === key),
    'the escapes are JSON escapes: the value is unchanged',
  );
  t.deepEqual((await verifyAuditLog(file)).problems, []);
});

const refusal = (host: string): EgressDecision => ({
  decision: 'refused',
  kind: 'connect',
  host,
  port: 443,
  code: 'host-not-allowed',
  status: 403,
  reason: `${host} is not in the allowlist`,
  client: '127.0.0.1:50000',
});

test('a plugin refused the same connection 10,000 times writes one egress line and a summary counting the rest, and the log verifies', async (t) => {
  const file = join(tempDir('airlock-audit-'), 'audit.jsonl');
  const log = new AuditLog({ file });
  for (let i = 0; i < 10_000; i++) log.egress('loop', refusal('evil.example'));
  log.egress('other', refusal('evil.example'));
  await log.close();
  const entries = lines(file).map((l) => JSON.parse(l) as Record<string, unknown>);
  t.is(entries.length, 3, 'a line per decision before the fix: 10,001');
  t.like(entries[0], { type: 'egress', plugin: 'loop', host: 'evil.example', decision: 'refused' });
  t.like(entries[1], { type: 'egress', plugin: 'other', host: 'evil.example' });
  t.like(entries[2], { type: 'egress-summary', plugin: 'loop', repeated: [{ host: 'evil.example', code: 'host-not-allowed', repeats: 9_999 }] });
  t.false('unlisted' in entries[2]!);
  t.deepEqual((await verifyAuditLog(file)).problems, []);
});

test('a plugin refused for thousands of different hosts writes the first 32 whole and counts the others, unlisted, in its summary', async (t) => {
  const seen: Record<string, unknown>[] = [];
  const log = new AuditLog({ onLine: (_l, e) => seen.push(e) });
  for (let i = 0; i < 5000; i++) log.egress('scan', refusal(`h${i}.example`));
  log.egress('scan', {
    decision: 'allowed',
    kind: 'connect',
    host: 'api.example',
    port: 443,
    address: '192.0.2.1',
    rule: 'api.example',
    reason: 'allowed',
    client: '127.0.0.1:1',
  });
  await log.close();
  t.is(seen.filter((e) => e.type === 'egress').length, 32);
  const summaries = seen.filter((e) => e.type === 'egress-summary');
  t.is(summaries.length, 1);
  t.deepEqual(summaries[0]!.unlisted, { refused: 4968, allowed: 1, past: 32 });
  t.false('repeated' in summaries[0]!, 'no decision was repeated word for word');
});

test('an egress window that ended is summarised before the next decision, which is written whole again', (t) => {
  const w = new EgressWindow({ windowMs: 1000, distinct: 2 });
  const f = { decision: 'refused', host: 'a' };
  t.true(w.admit('p', f, 0));
  t.false(w.admit('p', f, 10));
  t.true(w.pending);
  t.deepEqual(w.due(999), [], 'not yet ended');
  const [s] = w.due(1000);
  t.like(s, { plugin: 'p', repeated: [{ host: 'a', repeats: 1 }] });
  t.true(w.admit('p', f, 1001), 'a new window');
  t.deepEqual(w.due(5000), [], 'nothing counted, nothing to say');
});
