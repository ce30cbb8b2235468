/**
 * The conformance table: {fixtures, tool, input, grants, expected result or
 * error code}, run unchanged on every fixture of a row and every engine in
 * ./engines.ts that runs it. The Docker fixtures (conformance-node,
 * conformance-python) have the wasm fixtures' tools with the same names and
 * normalized results, so one row holds for every engine. Every engine must
 * meet the same expectation; where one cannot, ./limitations.ts says what it
 * does instead and why.
 *
 * Filesystem cases run in a fresh sandbox folder per test (see makeSandbox):
 *   <root>/secret.txt                     outside every grant
 *   <root>/ro/file.txt ("hello"), ro/sub/inner.txt, ro/empty/
 *   <root>/rw/sub/inner.txt ("inner"), rw/pipe (a FIFO), rw/sock (a unix socket)
 *   rw/escape -> ../secret.txt, rw/abs-escape -> <root>/secret.txt,
 *   rw/swapped -> <root> (a directory swapped for a symlink), rw/inside-link -> sub
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallLogs } from '../../src/engines/types.ts';
import type { ErrorCode } from '../../src/errors.ts';
import type { GrantsOverrides } from '../helpers/grants.ts';

export interface Sandbox {
  root: string;
  ro: string;
  rw: string;
  /** A local HTTP server (shared by the suite; an IPv4 address of this host) and the requests that reached it during this case. */
  http: { host: string; port: number; requests: string[] };
}

export type Expect =
  | {
      /** Exact JSON text, a pattern it must match, or a check returning a problem (undefined when fine). */
      output: string | RegExp | ((output: string) => string | undefined);
      /** Exact logs, or a check returning a problem (undefined when fine). */
      logs?: CallLogs | ((logs: CallLogs) => string | undefined);
    }
  | {
      error: ErrorCode;
      /** Fields the error's details must have (e.g. the plugin's own code). */
      details?: Record<string, unknown>;
      /** A pattern the error's message must match. */
      message?: RegExp;
    };

export interface Step {
  tool: string;
  /** Sent as JSON text. */
  input: unknown;
  expect: Expect;
  /** A per-call timeout (can only lower the granted one). */
  timeoutMs?: number;
  /** Abort the call right after starting it. */
  abort?: boolean;
}

export interface Case {
  /** Unique; limitations refer to cases by name. */
  name: string;
  /**
   * Folders under fixtures/plugins: the same rows run on each fixture, on
   * every engine that runs it (a wasm fixture on the wasm engines, a
   * node/python one in Docker, and its `wasm:` component on the wasm engines).
   */
  fixtures: string[];
  grants?: (s: Sandbox) => GrantsOverrides;
  /** Run in order on one loaded plugin (a function when inputs depend on the sandbox, e.g. the HTTP port). */
  steps: Step[] | ((s: Sandbox) => Step[]);
  /** Host-side checks after the steps: returns problems (e.g. a file changed outside what was granted). */
  check?: (s: Sandbox) => string[];
  /** Environment variables set in the host process during the case (to prove they do not leak). */
  hostEnv?: Record<string, string>;
}

const ERRNO = /^"errno:\d+:/;
const ok = (detail: string): Expect => ({ output: JSON.stringify(`ok:${detail}`) });
const refused: Expect = { output: ERRNO };
/** WASI errno values (wasi-libc): no space (resources.disk), quota (resources.files). */
const ENOSPC = /^"errno:51:/;
const EDQUOT = /^"errno:19:/;
const fs = (tool: string, path: string, expect: Expect, target?: string): Step => ({ tool, input: target === undefined ? { path } : { path, target }, expect });

const FIXED_TIME = new Date('2001-02-03T04:05:06Z');

export function makeSandbox(http: Sandbox['http']): Sandbox {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'airlock-conformance-')));
  const ro = join(root, 'ro');
  const rw = join(root, 'rw');
  mkdirSync(join(ro, 'sub'), { recursive: true });
  mkdirSync(join(ro, 'empty'));
  mkdirSync(join(rw, 'sub'), { recursive: true });
  writeFileSync(join(root, 'secret.txt'), 'secret');
  writeFileSync(join(ro, 'file.txt'), 'hello');
  // A fixed, old mtime: a set-times that got through would show.
  utimesSync(join(ro, 'file.txt'), FIXED_TIME, FIXED_TIME);
  writeFileSync(join(ro, 'sub', 'inner.txt'), 'inner');
  writeFileSync(join(rw, 'sub', 'inner.txt'), 'inner');
  // The Docker engine runs plugins as uid 10001 and a bind mount keeps host ownership: the read-write
  // grant (and its FIFO) must be writable by that uid, as a user's granted folder must be.
  for (const d of [rw, join(rw, 'sub')]) chmodSync(d, 0o777);
  symlinkSync('../secret.txt', join(rw, 'escape'));
  symlinkSync(join(root, 'secret.txt'), join(rw, 'abs-escape'));
  symlinkSync(root, join(rw, 'swapped'));
  symlinkSync('sub', join(rw, 'inside-link'));
  execFileSync('mkfifo', ['-m', '666', join(rw, 'pipe')]);
  // A unix socket file left behind: the process exits without closing it (closing would unlink it).
  execFileSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(join(rw, 'sock'))}, () => process.exit(0))`]);
  return { root, ro, rw, http };
}

// These cases are about escaping the grants, not about filling them: the policy accepts unbounded writes
// on the engines that cannot bound them (the quota has its own tests: test/capabilities/filesystem/quota*).
const readOnly = (s: Sandbox): GrantsOverrides => ({
  resources: { timeoutMs: 5000 },
  unboundedWrites: ['docker', 'wasmtime'],
  filesystem: [
    { hostPath: s.ro, mount: '/ro', access: 'read' },
    { hostPath: s.rw, mount: '/rw', access: 'read-write' },
  ],
});
const readWrite = (s: Sandbox): GrantsOverrides => ({
  // A FIFO open that blocked would end as `timeout`, not as an errno result.
  resources: { timeoutMs: 5000 },
  unboundedWrites: ['docker', 'wasmtime'],
  filesystem: [{ hostPath: s.rw, mount: '/rw', access: 'read-write' }],
});

const noneOutside = (s: Sandbox): string[] => {
  const extra = readdirSync(s.root).filter((f) => !['ro', 'rw', 'secret.txt'].includes(f));
  return [
    ...(extra.length > 0 ? [`files appeared outside the grants: ${extra.join(', ')}`] : []),
    ...(readFileSync(join(s.root, 'secret.txt'), 'utf8') === 'secret' ? [] : ['secret.txt changed']),
  ];
};

/** The Docker fixtures: the wasm fixtures' tools, same names, inputs and normalized results. */
const NATIVE = ['conformance-node', 'conformance-python'];
/** Echo/add everywhere: the three wasm languages, both Docker runtimes, and the dual plugin (its component and its python entry). */
const ECHO = ['echo-c', 'echo-js', 'echo-py', ...NATIVE, 'conformance-dual'];

export const CASES: Case[] = [
  {
    name: 'echo: echo returns its input byte for byte',
    fixtures: ECHO,
    steps: [
      {
        tool: 'echo',
        input: { a: [1, 'é', null, { b: true }], s: 'quote " backslash \\ newline \n tab \t 😀' },
        expect: {
          output: JSON.stringify({ a: [1, 'é', null, { b: true }], s: 'quote " backslash \\ newline \n tab \t 😀' }),
          logs: { stdout: '', stderr: '' },
        },
      },
    ],
  },
  {
    name: "echo: add computes, and a tool-error is plugin-error with the plugin's code",
    fixtures: ECHO,
    steps: [
      { tool: 'add', input: { a: 2, b: 0.5 }, expect: { output: '2.5' } },
      { tool: 'add', input: {}, expect: { error: 'plugin-error', details: { pluginCode: 'invalid-input' } } },
    ],
  },

  {
    name: 'third-party: a component built outside Airlock answers',
    fixtures: ['third-party'],
    steps: [
      { tool: 'echo', input: { a: 'hello' }, expect: { output: '{"a":"hello"}' } },
      { tool: 'size', input: { a: 'hello' }, expect: { output: '13' } },
      { tool: 'nope', input: {}, expect: { error: 'plugin-error', details: { pluginCode: 'not-found' } } },
    ],
  },

  // ---- engine behaviour ----
  {
    name: 'state: a pooled instance keeps its state between calls',
    fixtures: ['state', ...NATIVE],
    steps: [
      { tool: 'count', input: {}, expect: { output: '1' } },
      { tool: 'count', input: {}, expect: { output: '2' } },
    ],
  },
  {
    name: 'state: per-call isolation gives every call a fresh instance',
    fixtures: ['state', ...NATIVE],
    grants: () => ({ isolation: 'per-call' }),
    steps: [1, 2, 3].map(() => ({ tool: 'count', input: {}, expect: { output: '1' } })),
  },
  {
    name: "state: stdout and stderr are the call's logs, apart from the result",
    fixtures: ['state', ...NATIVE],
    steps: [
      { tool: 'print', input: 'marker', expect: { output: '"printed"', logs: { stdout: '"marker"\n', stderr: 'err:"marker"\n' } } },
      { tool: 'count', input: {}, expect: { output: /^\d+$/, logs: { stdout: '', stderr: '' } } },
    ],
  },
  {
    name: "state: a tool-error carries the plugin's code and message",
    fixtures: ['state', ...NATIVE],
    steps: [{ tool: 'fail', input: 'it broke', expect: { error: 'plugin-error', details: { pluginCode: 'bad-thing', pluginMessage: '"it broke"' } } }],
  },

  // ---- hostile fixtures ----
  {
    name: 'loop: an infinite loop is stopped at resources.timeout, twice',
    fixtures: ['loop', ...NATIVE],
    grants: () => ({ resources: { timeoutMs: 300 } }),
    steps: [
      { tool: 'spin', input: {}, expect: { error: 'timeout' } },
      { tool: 'spin', input: {}, expect: { error: 'timeout' } },
    ],
  },
  {
    name: 'loop: a per-call timeout below the grant stops the call; an abort stops it too',
    fixtures: ['loop', ...NATIVE],
    grants: () => ({ resources: { timeoutMs: 60_000 } }),
    steps: [
      { tool: 'spin', input: {}, timeoutMs: 300, expect: { error: 'timeout' } },
      { tool: 'spin', input: {}, abort: true, expect: { error: 'aborted' } },
    ],
  },
  {
    name: 'echo-c: a 200 KB input and result pass through',
    fixtures: ['echo-c', ...NATIVE],
    steps: [{ tool: 'echo', input: 'x'.repeat(200_000), expect: { output: JSON.stringify('x'.repeat(200_000)) } }],
  },
  {
    name: 'membomb: growing past resources.memory is memory-limit',
    fixtures: ['membomb', ...NATIVE],
    // Enough for an interpreter to start in a container (Node needs ~40 MiB), far below what the bomb asks for.
    grants: () => ({ resources: { memoryBytes: 96 << 20 } }),
    steps: [
      { tool: 'grow', input: {}, expect: { error: 'memory-limit' } },
      { tool: 'grow', input: {}, expect: { error: 'memory-limit' } },
    ],
  },
  {
    name: 'trap: a trap is trap, and the next call gets a fresh instance that traps again',
    fixtures: ['trap', ...NATIVE],
    steps: [
      { tool: 'boom', input: {}, expect: { error: 'trap' } },
      { tool: 'boom', input: {}, expect: { error: 'trap' } },
    ],
  },
  {
    name: 'bigout: a result over resources.output is output-limit; one just under passes',
    fixtures: ['bigout', ...NATIVE],
    grants: () => ({ resources: { outputBytes: 1000 } }),
    steps: [
      { tool: 'result', input: { bytes: 998 }, expect: { output: JSON.stringify('x'.repeat(998)) } },
      { tool: 'result', input: { bytes: 999 }, expect: { error: 'output-limit' } },
      { tool: 'result', input: { bytes: 4_000_000 }, expect: { error: 'output-limit' } },
    ],
  },
  {
    name: 'bigout: giant stdout and stderr are cut at resources.logs and marked truncated',
    fixtures: ['bigout', ...NATIVE],
    grants: () => ({ resources: { logBytes: 1000 } }),
    steps: (['stdout', 'stderr'] as const).map((stream) => ({
      tool: stream,
      input: { bytes: 1_000_000 },
      expect: {
        output: '"written"',
        logs: (l: CallLogs) => {
          const text = l[stream];
          if (l.truncated !== true) return 'logs not marked truncated';
          if (!text.startsWith('y'.repeat(100))) return `${stream} lost its head`;
          if (l.stdout.length + l.stderr.length > 2000) return `logs are ${l.stdout.length + l.stderr.length} chars, over the 1000-byte cap plus a marker`;
          return undefined;
        },
      },
    })),
  },
  {
    name: 'env-dump: with nothing granted the guest sees no environment at all',
    fixtures: ['env-dump', ...NATIVE],
    hostEnv: { AIRLOCK_CONFORMANCE_SECRET: 'hunter2' },
    steps: [{ tool: 'dump', input: {}, expect: { output: '[]' } }],
  },
  {
    name: 'env-dump: exactly the granted variables, with their values',
    fixtures: ['env-dump', ...NATIVE],
    hostEnv: { AIRLOCK_CONFORMANCE_SECRET: 'hunter2' },
    grants: () => ({ env: { GREETING: 'hi "there"; =x' } }),
    steps: [{ tool: 'dump', input: {}, expect: { output: JSON.stringify(['GREETING=hi "there"; =x']) } }],
  },
  {
    name: 'random-bomb: asking for 1 GiB of random bytes traps without the host allocating it',
    fixtures: ['random-bomb', ...NATIVE],
    steps: [{ tool: 'bomb', input: {}, expect: { error: 'trap' } }],
  },
  {
    name: 'net: with no network granted, TCP and HTTP are refused',
    fixtures: ['net', ...NATIVE],
    steps: [
      { tool: 'tcp', input: { ip: '127.0.0.1', port: 9 }, expect: { output: /^"denied:/ } },
      { tool: 'http', input: { url: 'http://127.0.0.1:9/' }, expect: { output: /^"denied:/ } },
    ],
  },
  {
    name: 'net: an allowlisted HTTP request goes out; another port or host name is refused before anything is sent',
    fixtures: ['net', ...NATIVE],
    grants: (s) => ({ network: { allow: [{ host: s.http.host, wildcard: false, port: s.http.port }] } }),
    steps: (s) => [
      { tool: 'http', input: { url: `http://${s.http.host}:${s.http.port}/allowed?q=1` }, expect: { output: '"ok:204"' } },
      { tool: 'http', input: { url: `http://${s.http.host}:${s.http.port + 1}/other-port` }, expect: { output: /^"denied:/ } },
      { tool: 'http', input: { url: `http://localhost:${s.http.port}/by-name` }, expect: { output: /^"denied:/ } },
      { tool: 'tcp', input: { ip: s.http.host, port: s.http.port }, expect: { output: /^"denied:/ } },
    ],
    check: (s) =>
      JSON.stringify(s.http.requests) === JSON.stringify(['GET /allowed?q=1'])
        ? []
        : [`the server saw ${JSON.stringify(s.http.requests)}, expected only GET /allowed?q=1`],
  },
  {
    name: 'net: with an HTTP allowlist, other hosts and raw sockets are still refused',
    fixtures: ['net', ...NATIVE],
    grants: () => ({ network: { allow: [{ host: 'example.com', wildcard: false, port: 443 }] } }),
    steps: [
      { tool: 'http', input: { url: 'http://127.0.0.1:9/' }, expect: { output: /^"denied:/ } },
      { tool: 'http', input: { url: 'http://example.com/' }, expect: { output: /^"denied:/ } },
      { tool: 'tcp', input: { ip: '93.184.215.14', port: 443 }, expect: { output: /^"denied:/ } },
    ],
  },

  // ---- filesystem ----
  {
    name: 'fs-escape: without a filesystem grant nothing is reachable',
    fixtures: ['fs-escape', ...NATIVE],
    steps: [
      fs('read', '/etc/passwd', refused),
      fs('list', '/', refused),
      fs('write', '/tmp/airlock-conformance-planted', refused),
      fs('read', '/etc/shadow', refused),
    ],
    check: () => (existsSync('/tmp/airlock-conformance-planted') ? ['a file was planted in /tmp'] : []),
  },
  {
    name: 'fs-escape: a read-write grant allows create, write, read, mkdir, rename and unlink',
    fixtures: ['fs-escape', ...NATIVE],
    grants: readWrite,
    steps: [
      fs('write', '/rw/out.txt', ok('written')),
      fs('append', '/rw/out.txt', ok('written')),
      fs('read', '/rw/out.txt', ok('pwnedpwned')),
      fs('read', '/rw/sub/../sub/inner.txt', ok('inner')),
      fs('mkdir', '/rw/d', ok('done')),
      fs('rename', '/rw/out.txt', ok('done'), '/rw/d/moved.txt'),
      fs('unlink', '/rw/d/moved.txt', ok('done')),
      fs('rmdir', '/rw/d', ok('done')),
    ],
    check: (s) => [...noneOutside(s), ...(existsSync(join(s.rw, 'd')) ? ['rw/d still exists'] : [])],
  },
  {
    name: 'fs-escape: a read-write grant holds at most resources.disk bytes; deleting frees room',
    fixtures: ['fs-escape', ...NATIVE],
    // The sandbox's rw folder already holds 5 bytes (sub/inner.txt): room for one 5-byte write.
    grants: (s) => ({ resources: { timeoutMs: 5000, diskBytes: 10 }, filesystem: [{ hostPath: s.rw, mount: '/rw', access: 'read-write' }] }),
    steps: [
      fs('write', '/rw/out.txt', ok('written')),
      fs('append', '/rw/out.txt', { output: ENOSPC }),
      fs('read', '/rw/out.txt', ok('pwned')),
      fs('unlink', '/rw/out.txt', ok('done')),
      fs('write', '/rw/again.txt', ok('written')),
    ],
    check: (s) => [...noneOutside(s), ...(existsSync(join(s.rw, 'out.txt')) ? ['rw/out.txt still exists'] : [])],
  },
  {
    name: 'fs-escape: a read-write grant holds at most resources.files entries; deleting frees room',
    fixtures: ['fs-escape', ...NATIVE],
    // The sandbox's rw folder already holds 8 entries (see makeSandbox): room for two more.
    grants: (s) => ({ resources: { timeoutMs: 5000, files: 10 }, filesystem: [{ hostPath: s.rw, mount: '/rw', access: 'read-write' }] }),
    steps: [
      fs('mkdir', '/rw/a', ok('done')),
      fs('write', '/rw/b', ok('written')),
      fs('mkdir', '/rw/c', { output: EDQUOT }),
      fs('write', '/rw/d', { output: EDQUOT }),
      fs('unlink', '/rw/b', ok('done')),
      fs('mkdir', '/rw/c', ok('done')),
    ],
    check: (s) => [...noneOutside(s), ...(existsSync(join(s.rw, 'd')) ? ['rw/d exists'] : [])],
  },
  {
    name: 'fs-escape: .. and absolute paths cannot leave the grant',
    fixtures: ['fs-escape', ...NATIVE],
    grants: readWrite,
    steps: [
      fs('read', '/rw/../secret.txt', refused),
      fs('read', '/rw/sub/../../secret.txt', refused),
      fs('write', '/rw/../planted.txt', refused),
      fs('mkdir', '/rw/../planted', refused),
      fs('rename', '/rw/sub/inner.txt', refused, '/rw/../planted.txt'),
      fs('read', '/secret.txt', refused),
      fs('read', '/etc/passwd', refused),
      fs('read', '/rw/../../../../etc/shadow', refused),
      fs('read', '/etc/shadow', refused),
    ],
    check: noneOutside,
  },
  {
    name: 'fs-escape: symlinks out of the grant are not followed (relative, absolute, a swapped directory)',
    fixtures: ['fs-escape', ...NATIVE],
    grants: readWrite,
    steps: [
      fs('read', '/rw/escape', refused),
      fs('read', '/rw/abs-escape', refused),
      fs('read', '/rw/swapped/secret.txt', refused),
      fs('write', '/rw/swapped/planted.txt', refused),
      fs('write', '/rw/escape', refused),
    ],
    check: noneOutside,
  },
  {
    name: 'fs-escape: a symlink the guest creates cannot lead out of the grant',
    fixtures: ['fs-escape', ...NATIVE],
    grants: readWrite,
    steps: [fs('symlink', '/rw/evil', refused, '../secret.txt'), fs('read', '/rw/evil', refused)],
    check: noneOutside,
  },
  {
    name: 'fs-escape: a symlink inside the grant is not followed either',
    fixtures: ['fs-escape', ...NATIVE],
    grants: readWrite,
    steps: [fs('read', '/rw/inside-link/inner.txt', refused)],
  },
  {
    name: 'fs-escape: a FIFO or a socket is refused before any blocking open',
    fixtures: ['fs-escape', ...NATIVE],
    // A short limit: an open that blocked ends as `timeout` (an engine that blocks is listed in limitations.ts).
    grants: (s) => ({ ...readWrite(s), resources: { timeoutMs: 3000 } }),
    steps: [fs('open', '/rw/pipe', refused), fs('append', '/rw/pipe', refused), fs('open', '/rw/sock', refused), fs('append', '/rw/sock', refused)],
  },
  {
    name: 'fs-escape: a read-only grant is readable at its mount path',
    fixtures: ['fs-escape', ...NATIVE],
    grants: readOnly,
    steps: [
      fs('read', '/ro/file.txt', ok('hello')),
      fs('read', '/ro/sub/inner.txt', ok('inner')),
      fs('stat', '/ro/file.txt', ok('done')),
      fs('list', '/ro/sub', { output: /^"ok:.*inner\.txt/ }),
    ],
  },
  {
    name: 'fs-escape: a read-only grant refuses every kind of write and the host files stay as they were',
    fixtures: ['fs-escape', ...NATIVE],
    grants: readOnly,
    steps: [
      fs('write', '/ro/new.txt', refused),
      fs('write', '/ro/file.txt', refused),
      fs('append', '/ro/file.txt', refused),
      fs('truncate', '/ro/file.txt', refused),
      fs('mkdir', '/ro/dir', refused),
      fs('rmdir', '/ro/empty', refused),
      fs('unlink', '/ro/file.txt', refused),
      fs('rename', '/ro/file.txt', refused, '/ro/moved.txt'),
      fs('symlink', '/ro/link', refused, 'file.txt'),
      fs('link', '/ro/hard', refused, '/ro/file.txt'),
      fs('utimes', '/ro/file.txt', refused),
      // Never from a read-only grant into a writable one.
      fs('rename', '/ro/file.txt', refused, '/rw/stolen.txt'),
      fs('link', '/rw/linked.txt', refused, '/ro/file.txt'),
    ],
    check: (s) => {
      const problems: string[] = [];
      if (readFileSync(join(s.ro, 'file.txt'), 'utf8') !== 'hello') problems.push('ro/file.txt changed');
      if (statSync(join(s.ro, 'file.txt')).mtimeMs !== FIXED_TIME.getTime()) problems.push('ro/file.txt had its times set');
      for (const f of ['new.txt', 'dir', 'moved.txt', 'link', 'hard']) if (existsSync(join(s.ro, f))) problems.push(`ro/${f} was created`);
      if (!existsSync(join(s.ro, 'empty'))) problems.push('ro/empty was removed');
      for (const f of ['stolen.txt', 'linked.txt']) if (existsSync(join(s.rw, f))) problems.push(`rw/${f} was created`);
      return problems;
    },
  },
];
