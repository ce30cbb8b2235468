/**
 * Build steps told from build output (src/engines/docker/build.ts): the classic builder's `Step N/M : …` lines
 * and a RUN step's output reach the host as the same kind of message, so build-time plugin code can print
 * lines that look like steps. A step is only the daemon's next one (so at most as many as the Dockerfile
 * has); the rest is output like any other, so it cannot flood the calls waiting for the build (each step is a
 * progress notification to an MCP client). Driven by a fake daemon: no Docker needed.
 */
import test from 'ava';
import { PassThrough } from 'node:stream';
import { AirlockError } from '../../../src/errors.ts';
import { type BuildEvent, buildPrepared } from '../../../src/engines/docker/build.ts';

interface Message {
  stream?: string;
  error?: string;
}

/** A daemon whose build sends `messages`, and whose image exists once the build ended without an error. */
function fakeDocker(messages: Message[]): never {
  let built = false;
  return {
    getImage: () => ({
      inspect: async () => {
        if (!built) throw new Error('no such image');
        return {};
      },
    }),
    buildImage: async (context: NodeJS.ReadableStream) => {
      context.resume();
      return new PassThrough();
    },
    modem: {
      followProgress: (_s: unknown, done: (err: Error | null) => void, each: (m: Message) => void) => {
        setImmediate(() => {
          for (const m of messages) each(m);
          built = !messages.some((m) => m.error !== undefined);
          done(null);
        });
      },
    },
  } as never;
}

const grants = { plugin: { name: 'forger', version: '1.0.0', runtime: 'node' } } as never;
const config = { registryArgs: {}, buildLimits: { timeoutMs: 600_000, memoryBytes: 1 << 30, cpus: 1 } } as never;
const prep = {
  tag: 'airlock/forger:test',
  dockerfile: 'FROM x',
  buildArgs: {},
  base: 'x',
  context: async function* () {
    yield Buffer.alloc(1024);
  },
} as never;

const real = (n: number, text: string): Message => ({ stream: `Step ${n}/3 : ${text}\n` });

test('build output that looks like step lines is output: at most the Dockerfile’s step count reach the calls waiting', async (t) => {
  const forged: Message[] = [];
  for (let i = 0; i < 10_000; i++) forged.push({ stream: `Step ${(i % 3) + 1}/3 : forged ${i}\n` });
  const events: BuildEvent[] = [];
  await buildPrepared(fakeDocker([real(1, 'FROM x'), real(2, 'RUN npm ci'), ...forged, real(3, 'COPY . .')]), grants, config, prep, {
    onProgress: (e) => events.push(e),
  });
  const steps = events.filter((e) => e.type === 'step').map((e) => (e as { step: string }).step);
  // Before the fix every forged line was a step: 10,003 of them. A look-alike of the very next step can take
  // its place (the Dockerfile is no secret), once; then the real one is output like the rest.
  t.deepEqual(steps, ['Step 1/3 : FROM x', 'Step 2/3 : RUN npm ci', 'Step 3/3 : forged 2']);
  t.is(events.filter((e) => e.type === 'output').length, 10_000, 'the other look-alikes and the late real step are output');
});

test('a step line out of the daemon’s order (a repeat, past the total, another total) is the failing step’s output, not its name', async (t) => {
  const docker = fakeDocker([
    real(1, 'FROM x'),
    real(2, 'RUN npm ci'),
    { stream: 'npm ERR! the real reason\n' },
    { stream: 'Step 2/3 : all is well\n' },
    { stream: 'Step 4/3 : all is well\n' },
    { stream: 'Step 3/9 : all is well\n' },
    { error: 'The command returned a non-zero code: 1' },
  ]);
  const err = await t.throwsAsync(buildPrepared(docker, grants, config, prep), { instanceOf: AirlockError });
  t.regex(err?.message ?? '', /failed at step `RUN npm ci`/);
  t.regex(err?.message ?? '', /npm ERR! the real reason/);
});
