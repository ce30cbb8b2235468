/**
 * `airlock call` and `airlock serve` against a Docker daemon over mutual TLS
 * (./tls-daemon.ts), configured the two ways a user does it: the standard
 * environment (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) and the
 * host policy's `docker:` section. Each run is a child process, as a user
 * runs it; the same command on the local socket is the reference.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { tempDir } from '../../../helpers/plugin.ts';
import { DOCKER, FIXTURES } from '../helpers.ts';
import { makePki, startTerminator, tlsEnv } from './tls-daemon.ts';

const t = DOCKER ? test.serial : test.serial.skip;

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const pki = makePki('cli');

/** The environment without any daemon setting, plus `extra`. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('DOCKER_')) out[k] = v;
  return { ...out, ...extra };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function airlock(args: string[], extra: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd: ROOT, env: env(extra), timeout: 300_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

const CALLS: [string, string, string][] = [
  ['conformance-node', 'print', '{"say":"hi"}'],
  ['conformance-node', 'fail', '{"why":"on purpose"}'],
  ['conformance-python', 'add', '{"a":"x"}'],
];

t('airlock call gives the same output, logs, errors and exit codes over DOCKER_HOST with TLS as on the local socket', async (t) => {
  const term = await startTerminator(pki);
  t.teardown(() => term.close());
  const remote: Run[] = [];
  for (const [plugin, tool, input] of CALLS) {
    const args = ['call', join(FIXTURES, plugin), tool, input, '--engine', 'docker'];
    const local = await airlock(args);
    remote.push(await airlock(args, tlsEnv(term.port, pki.client)));
    t.deepEqual(remote.at(-1), local, `${plugin} ${tool}`);
  }
  t.true(term.forwarded > 0, 'the remote runs went through the TLS terminator');
  // What was compared: a result with logs, a plugin error with its code, invalid input.
  t.is(remote[0]?.code, 0);
  t.is(remote[0]?.stdout.trim(), '"printed"');
  t.is(remote[1]?.code, 1);
  t.regex(remote[1]?.stderr ?? '', /on purpose/);
});

t('the host policy docker: section points airlock call at the TLS daemon (certificate paths relative to the policy file)', async (t) => {
  const term = await startTerminator(pki);
  t.teardown(() => term.close());
  const dir = tempDir('airlock-remote-policy-');
  const rel = relative(dir, pki.client);
  const policy = join(dir, 'policy.yaml');
  writeFileSync(
    policy,
    `apiVersion: airlock/v1\ndocker:\n  host: tcp://127.0.0.1:${term.port}\n  tls:\n    ca: ${rel}/ca.pem\n    cert: ${rel}/cert.pem\n    key: ${rel}/key.pem\n`,
  );
  const run = await airlock(['call', join(FIXTURES, 'conformance-python'), 'echo', '{"x":[1,2]}', '--policy', policy]);
  t.is(run.code, 0, run.stderr);
  t.deepEqual(JSON.parse(run.stdout), { x: [1, 2] });
  t.true(term.forwarded > 0, 'the policy, not the environment, chose the daemon');
});

t('airlock call with a read-only grant on the remote daemon reads the same files and gets the same refused write as locally', async (t) => {
  const term = await startTerminator(pki);
  t.teardown(() => term.close());
  const dir = tempDir('airlock-remote-fs-');
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, `apiVersion: airlock/v1\nfilesystem:\n  - { path: ${join(FIXTURES, 'python-fs', 'data')}, access: read }\n`);
  const remote: Run[] = [];
  for (const [tool, input] of [
    ['list', '{"path":"/data"}'],
    ['write', '{"path":"/data/x.txt","text":"x"}'],
  ] as const) {
    const args = ['call', join(FIXTURES, 'python-fs'), tool, input, '--policy', policy, '--engine', 'docker'];
    const local = await airlock(args);
    remote.push(await airlock(args, tlsEnv(term.port, pki.client)));
    t.deepEqual(remote.at(-1), local, tool);
  }
  t.deepEqual(JSON.parse(remote[0]?.stdout ?? ''), { names: ['hello.txt'] });
  t.regex(remote[1]?.stderr ?? '', /Read-only file system/);
  t.true(term.forwarded > 0);
});

async function serveResults(extra: Record<string, string>): Promise<unknown[]> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MAIN, 'serve', '--engine', 'docker', join(FIXTURES, 'conformance-node'), join(FIXTURES, 'conformance-python')],
    cwd: ROOT,
    env: env(extra),
    stderr: 'pipe',
  });
  const client = new Client({ name: 'remote-docker-test', version: '1.0.0' });
  await client.connect(transport);
  try {
    const tools = (await client.listTools()).tools.map((x) => x.name).sort();
    const out: unknown[] = [tools.length];
    for (const name of ['conformance-node_add', 'conformance-python_add', 'conformance-node_fail', 'conformance-python_fail']) {
      const args = name.endsWith('_add') ? { a: 20, b: 22 } : { why: 'on purpose' };
      const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 300_000 });
      // Timings and usage figures differ from run to run; everything else must not.
      const meta = result._meta as Record<string, unknown> | undefined;
      delete meta?.['airlock/metrics'];
      delete meta?.['airlock/usage'];
      delete (meta?.['airlock/error'] as { details?: Record<string, unknown> } | undefined)?.details?.usage;
      out.push(result);
    }
    return out;
  } finally {
    await client.close();
  }
}

t('airlock serve runs a Node and a Python plugin on the TLS daemon with the same MCP results and errors as locally', async (t) => {
  const term = await startTerminator(pki);
  t.teardown(() => term.close());
  const remote = await serveResults(tlsEnv(term.port, pki.client));
  t.true(term.forwarded > 0);
  t.deepEqual(remote, await serveResults({}));
  const [, nodeAdd, , nodeFail] = remote as { content: { text: string }[]; isError?: boolean }[];
  t.is(nodeAdd?.content[0]?.text, '42');
  t.true(nodeFail?.isError);
});
