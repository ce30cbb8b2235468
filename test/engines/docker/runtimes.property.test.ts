/**
 * Property tests of the in-container hosts (runtimes/node/host.mjs,
 * runtimes/python/host.py), each run here as a plain child process speaking
 * the JSON-lines protocol (no Docker needed): one process per runtime serves
 * every generated request, as a warm container does.
 */
import test from 'ava';
import fc from 'fast-check';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { parseContainerMessage, type ContainerMessage } from '../../../src/protocol.ts';
import { fuzz } from '../../helpers/fuzz.ts';
import { tempDir } from '../../helpers/plugin.ts';

const RUNTIMES = join(import.meta.dirname, '..', '..', '..', 'runtimes');
const dir = tempDir();
writeFileSync(
  join(dir, 'plugin.mjs'),
  'export function echo(input) { return input; }\nexport function noisy(input) { console.log(JSON.stringify(input)); return input; }\n',
);
writeFileSync(
  join(dir, 'plugin.py'),
  'import json\n\ndef echo(input):\n    return input\n\ndef noisy(input):\n    print(json.dumps(input))\n    return input\n',
);

interface Host {
  /** Sends one line, resolves with the next protocol line. */
  ask(line: string): Promise<string>;
  proc: ChildProcess;
}

/** Starts a host, says hello, waits for `ready`. */
async function start(runtime: 'node' | 'python'): Promise<Host> {
  const proc =
    runtime === 'node'
      ? spawn(process.execPath, [join(RUNTIMES, 'node', 'host.mjs'), join(dir, 'plugin.mjs')], { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] })
      : spawn('python3', [join(RUNTIMES, 'python', 'host.py'), join(dir, 'plugin.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
  // Node's host answers on fd 3 (its image points fd 3 at the container's stdout); Python's on stdout.
  const out = (runtime === 'node' ? proc.stdio[3] : proc.stdout) as Readable;
  const lines: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  let buf = Buffer.alloc(0);
  out.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10)) {
      const l = buf.subarray(0, nl).toString('utf8');
      buf = buf.subarray(nl + 1);
      const w = waiting.shift();
      if (w !== undefined) w(l);
      else lines.push(l);
    }
  });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<string>((resolve) => proc.once('exit', (code) => resolve(`the ${runtime} host exited (${code}): ${stderr.slice(-500)}`)));
  const next = (): Promise<string> => {
    const have = lines.shift();
    if (have !== undefined) return Promise.resolve(have);
    return Promise.race([new Promise<string>((r) => waiting.push(r)), exited.then((why) => Promise.reject(new Error(why)))]);
  };
  const ask = (line: string): Promise<string> => {
    (proc.stdin as Writable).write(`${line}\n`);
    return next();
  };
  const ready = await ask(JSON.stringify({ type: 'hello', token: 'fuzz-token' }));
  if (parseContainerMessage(ready)?.type !== 'ready') throw new Error(`${runtime}: expected ready, got ${ready}`);
  return { ask, proc };
}

const hasPython = spawnSync('python3', ['--version']).status === 0;
if (!hasPython) process.stderr.write('\n!!! SKIPPING the Python host properties: no python3 on PATH\n\n');
const runtimes = (['node', 'python'] as const).filter((r) => r === 'node' || hasPython);
const hosts = new Map<string, Host>();
test.before(async () => {
  for (const r of runtimes) hosts.set(r, await start(r));
});
test.after.always(() => {
  for (const h of hosts.values()) h.proc.kill();
});

/** JSON input of any shape; strings of any code points, with the awkward ones often (lone surrogates travel as JSON escapes). */
const unit = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.constantFrom('\ud800', '\udfff', '\ud83d', 'é', '😀', '\u2028', '\u0000', '\u007f', '"', '\\', '\r'),
);
const input = fc.jsonValue({ maxDepth: 3, stringUnit: unit });

for (const runtime of runtimes) {
  test.serial(`${runtime}: any JSON input comes back from an echo tool as the same JSON, its print in the call's stdout, under the request's id`, async (t) => {
    const host = hosts.get(runtime)!;
    let id = 0;
    await t.notThrowsAsync(
      fc.assert(
        fc.asyncProperty(input, fc.boolean(), async (value, noisy) => {
          id++;
          const line = await host.ask(JSON.stringify({ id, tool: noisy ? 'noisy' : 'echo', input: value }));
          const m = parseContainerMessage(line);
          const want = JSON.stringify(value);
          if (m?.type !== 'result' || m.id !== id) throw new Error(`not the result of call ${id}: ${line.slice(0, 300)}`);
          if (!m.ok) throw new Error(`call ${id} failed: ${JSON.stringify(m.error)}`);
          if (JSON.stringify(JSON.parse(m.output)) !== want) throw new Error(`sent ${want.slice(0, 200)}, got back ${m.output.slice(0, 200)}`);
          const printed = noisy ? JSON.stringify(JSON.parse(m.stdout)) : '';
          if (printed !== (noisy ? want : '') || m.stderr !== '' || m.truncated)
            throw new Error(`logs of call ${id}: ${JSON.stringify({ stdout: m.stdout, stderr: m.stderr, truncated: m.truncated }).slice(0, 300)}`);
        }),
        fuzz(150),
      ),
    );
  });

  test.serial(
    `${runtime}: every request line, however malformed, gets exactly one answer (a result under its id, or fatal) and the host keeps serving`,
    async (t) => {
      const host = hosts.get(runtime)!;
      const junk = fc
        .oneof(
          fc.string({ unit: 'binary', maxLength: 40 }),
          fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
          fc
            .record(
              {
                id: fc.jsonValue({ maxDepth: 1 }),
                tool: fc.oneof(fc.constantFrom('echo', '__init__', '_private', 'constructor', 'toString', 'json', 'missing'), fc.jsonValue({ maxDepth: 1 })),
                input: fc.jsonValue({ maxDepth: 1 }),
              },
              { requiredKeys: [] },
            )
            .map((v) => JSON.stringify(v)),
        )
        .map((l) => l.replace(/[\r\n]/g, ' ')); // one line: the hosts split on newlines (Node's readline on "\r" too)
      await t.notThrowsAsync(
        fc.assert(
          fc.asyncProperty(junk, async (line) => {
            const answer = await host.ask(line);
            const m: ContainerMessage | undefined = parseContainerMessage(answer);
            let req: unknown;
            try {
              req = JSON.parse(line);
            } catch {
              req = undefined;
            }
            const isRequest = req !== null && typeof req === 'object' && !Array.isArray(req);
            if (!isRequest) {
              if (m?.type !== 'fatal') throw new Error(`${JSON.stringify(line)} answered with ${answer.slice(0, 300)}`);
            } else {
              const id = (req as { id?: unknown }).id;
              const answered = JSON.parse(answer) as { type?: unknown; id?: unknown };
              if (answered.type !== 'result' || JSON.stringify(answered.id ?? null) !== JSON.stringify(id ?? null))
                throw new Error(`${JSON.stringify(line)} answered with ${answer.slice(0, 300)}`);
            }
            const after = parseContainerMessage(await host.ask(JSON.stringify({ id: 424242, tool: 'echo', input: 'still here' })));
            if (after?.type !== 'result' || after.id !== 424242 || !after.ok || after.output !== '"still here"')
              throw new Error(`after ${JSON.stringify(line)} the host answered ${JSON.stringify(after)}`);
          }),
          fuzz(150),
        ),
      );
    },
  );
}

// The counterexamples the properties above found, kept as plain cases.
for (const runtime of runtimes) {
  test.serial(`${runtime}: an input holding U+2028, U+2029 or a lone surrogate comes back unchanged, in one line`, async (t) => {
    const host = hosts.get(runtime)!;
    for (const [id, value] of [
      [9001, 'a\u2028b'],
      [9002, { 'x\u2029': '\ud800' }],
      [9003, ['\udfff', '😀']],
    ] as const) {
      const m = parseContainerMessage(await host.ask(JSON.stringify({ id, tool: 'echo', input: value })));
      t.true(m?.type === 'result' && m.id === id && m.ok, JSON.stringify(m));
      t.is((m as { output: string }).output === undefined ? undefined : JSON.stringify(JSON.parse((m as { output: string }).output)), JSON.stringify(value));
    }
  });

  test.serial(`${runtime}: a request line that is JSON but not an object is answered fatal, and the host keeps serving`, async (t) => {
    const host = hosts.get(runtime)!;
    for (const line of ['null', '[]', '0', '""']) {
      t.is(parseContainerMessage(await host.ask(line))?.type, 'fatal', line);
      const after = parseContainerMessage(await host.ask(JSON.stringify({ id: 9100, tool: 'echo', input: 1 })));
      t.true(after?.type === 'result' && after.id === 9100 && after.ok, `after ${line}: ${JSON.stringify(after)}`);
    }
  });
}
