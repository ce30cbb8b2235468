/**
 * Property tests of the engine's side of the container protocol (no Docker
 * needed): PluginContainer reading Docker's multiplexed attach stream (8-byte
 * frame headers, stdout = 1, stderr = 2) and the JSON lines inside it. The
 * container and its stream are stand-ins; the bytes are what a daemon sends.
 */
import test from 'ava';
import fc from 'fast-check';
import { Duplex } from 'node:stream';
import { AirlockError } from '../../../src/errors.ts';
import { PluginContainer, type ContainerSpec, type ResultMessage } from '../../../src/engines/docker/container.ts';
import { parseContainerMessage } from '../../../src/protocol.ts';
import { fuzz } from '../../helpers/fuzz.ts';

interface Fake {
  pc: PluginContainer;
  /** Feeds bytes as the daemon's stream would deliver them. */
  feed(chunk: Uint8Array): void;
  /** Lines the engine wrote to the container's stdin. */
  written: string[];
  /** The daemon closing the stream (the container ended). */
  end(): void;
}

/** A PluginContainer over a stand-in stream and container (its constructor is private: start() needs a daemon). */
function fake(maxLineBytes: number): Fake {
  const written: string[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk.toString('utf8'));
      cb();
    },
  });
  const container = {
    id: 'fake',
    inspect: async () => ({ State: { Running: false, ExitCode: 0, OOMKilled: false } }),
    wait: async () => ({ StatusCode: 0 }),
    remove: async () => undefined,
    kill: async () => void stream.destroy(),
  };
  const spec = { image: 'x', plugin: 'fuzz', hostConfig: {}, env: {}, user: '1', maxLineBytes } satisfies ContainerSpec;
  const Ctor = PluginContainer as unknown as new (docker: unknown, container: unknown, name: string, stream: Duplex, spec: ContainerSpec) => PluginContainer;
  const pc = new Ctor({}, container, 'fake', stream, spec);
  return { pc, written, feed: (chunk) => void stream.emit('data', Buffer.from(chunk)), end: () => void stream.destroy() };
}

/** One frame of Docker's multiplexed stream. */
function frame(kind: number, payload: Uint8Array): Buffer {
  const header = Buffer.alloc(8);
  header[0] = kind;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** `bytes` cut at the given fractions (any byte: UTF-8 sequences and frame headers get split too). */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((f) => Math.floor(f * bytes.length)))].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

const PENDING = Symbol('pending');
/**
 * The call's outcome if it has settled by now. Feeding the stream is synchronous, so a call its bytes
 * answer has settled once the microtasks queued so far have run (a macrotask turn), with nothing else to wait for.
 */
async function settled<T>(p: Promise<T>): Promise<T | AirlockError | typeof PENDING> {
  let out: T | AirlockError | typeof PENDING = PENDING;
  p.then(
    (v) => (out = v),
    (e: unknown) => (out = e as AirlockError),
  );
  await new Promise((r) => setImmediate(r));
  return out;
}

const text = fc.string({ unit: 'binary', maxLength: 40 });
const logs = fc.record({ stdout: text, stderr: text, truncated: fc.boolean() });
const error = fc.record({ code: fc.string({ minLength: 1, maxLength: 10 }), message: text });
/** What a result carries besides its id: ok with output, or a tool error; the plugin's logs either way. */
const outcome = fc.oneof(
  fc.record({ ok: fc.constant(true as const), output: text }).chain((r) => logs.map((l) => ({ ...r, ...l }))),
  fc.record({ ok: fc.constant(false as const), error }).chain((r) => logs.map((l) => ({ ...r, ...l }))),
);
const fractions = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

test('results arrive intact and in order whatever the chunking of the stream: split at any byte, frames of any size, stderr interleaved', async (t) => {
  await t.notThrowsAsync(
    fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ input: fc.jsonValue({ maxDepth: 2 }), result: outcome, frames: fractions, chunks: fractions, stderr: text }), {
          minLength: 1,
          maxLength: 4,
        }),
        async (calls) => {
          const f = fake(1 << 20);
          try {
            for (const [i, c] of calls.entries()) {
              const p = f.pc.call('echo', c.input);
              const req = JSON.parse(f.written.at(-1)!) as { id: number; tool: string; input: unknown };
              if (req.id !== i + 1 || req.tool !== 'echo' || JSON.stringify(req.input) !== JSON.stringify(c.input))
                throw new Error(`request line ${f.written.at(-1)}`);
              const expected = { type: 'result', id: req.id, ...c.result } as ResultMessage;
              const lines = `${(i === 0 ? `${JSON.stringify({ type: 'ready', runtime: 'node', version: 'v24' })}\n` : '') + JSON.stringify(expected)}\n`;
              // The host's line, cut into stdout frames anywhere, with a stderr frame between two of them.
              const pieces = cut(Buffer.from(lines, 'utf8'), c.frames);
              const frames = pieces.map((piece) => frame(1, piece));
              frames.splice(c.frames.length % (frames.length + 1), 0, frame(2, Buffer.from(c.stderr, 'utf8')));
              for (const chunk of cut(Buffer.concat(frames), c.chunks)) f.feed(chunk);
              const got = await settled(p);
              if (got === PENDING) throw new Error(`call ${req.id} still waits after its whole result arrived`);
              if (got instanceof AirlockError) throw new Error(`call ${req.id} failed: ${got.message}`);
              if (JSON.stringify(got) !== JSON.stringify(parseContainerMessage(JSON.stringify(expected))))
                throw new Error(`call ${req.id}: ${JSON.stringify(got)}, sent ${JSON.stringify(expected)}`);
            }
          } finally {
            f.end();
          }
        },
      ),
      fuzz(200),
    ),
  );
});

// ---- anything at all on stdout ----

/** Lines a broken or hostile container might write: results for this call or another, look-alikes, junk, long lines. */
const line = (max: number) =>
  fc.oneof(
    { arbitrary: outcome.chain((r) => fc.constantFrom(0, 1, 2, 7).map((id) => JSON.stringify({ type: 'result', id, ...r }))), weight: 6 },
    fc.constant(JSON.stringify({ type: 'ready', runtime: 'python', version: '3' })),
    error.map((e) => JSON.stringify({ type: 'fatal', error: e })),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.constantFrom('{"type":"result","id":1', '', '\r', '{"type":"result","id":1,"ok":true,"output":"x","stdout":"","stderr":"","truncated":false}\r'),
    fc.nat({ max: 3 }).map((extra) => 'x'.repeat(max - 1 + extra)),
  );

/**
 * What the engine must make of `lines` (all but the last end in a newline) for the call with id 1, sent
 * after the host's `ready`, whatever the chunking: the first line that decides it, else a crash when the
 * stream ends. Only what the protocol expects is taken (src/engines/host-stream.ts): the call's result, or
 * one repeat of the last answer (`ready` here: the host's own after a look-alike), dropped; anything else
 * ends the instance.
 */
function model(lines: string[], complete: boolean, max: number): string {
  let late: 'ready' | number | undefined = 'ready';
  for (const [i, l] of lines.entries()) {
    const bytes = Buffer.byteLength(l);
    if (bytes > max) return 'error:output-limit';
    if (i === lines.length - 1 && !complete) break;
    const m = parseContainerMessage(l);
    if (m === undefined) return 'error:crash';
    if (m.type === 'fatal') return 'error:trap';
    if (m.type === 'result' && m.id === 1) return `result:${JSON.stringify(m)}`;
    const key = m.type === 'ready' ? 'ready' : m.id;
    if (key !== late) return 'error:crash';
    late = undefined;
  }
  return 'error:crash';
}

/** The in-container host's `ready`, as its first stdout frame. */
const READY = frame(1, Buffer.from(`${JSON.stringify({ type: 'ready', runtime: 'node', version: 'v24' })}\n`));

test('any bytes on stdout settle the pending call as the first deciding line says (its own result, a typed error), never crash the reader, hang, or take another id', async (t) => {
  const max = 1024;
  const seen = new Map<string, number>();
  await t.notThrowsAsync(
    fc.assert(
      fc.asyncProperty(fc.array(line(max), { maxLength: 6 }), fc.boolean(), fractions, fractions, async (lines, complete, frames, chunks) => {
        const f = fake(max);
        f.feed(READY);
        const p = f.pc.call('echo', {});
        const bytes = Buffer.from(lines.join('\n') + (complete && lines.length > 0 ? '\n' : ''), 'utf8');
        // Frames on stderr (2) carry nothing of the protocol: the same bytes sent there too must not count.
        const framed = cut(bytes, frames).flatMap((piece, i) => (i % 2 === 1 ? [frame(2, bytes), frame(1, piece)] : [frame(1, piece)]));
        try {
          for (const chunk of cut(Buffer.concat([frame(2, bytes), ...framed]), chunks)) f.feed(chunk);
        } catch (e) {
          throw new Error(`the reader threw: ${String(e)}`);
        }
        f.end();
        const got = await p.then(
          (m) => `result:${JSON.stringify(m)}`,
          (e: unknown) => (e instanceof AirlockError ? `error:${e.code}` : `threw ${String(e)}`),
        );
        const want = model(lines, complete, max);
        if (got !== want) throw new Error(`got ${got}, expected ${want}`);
        const kind = got.startsWith('result:') ? 'result' : got;
        seen.set(kind, (seen.get(kind) ?? 0) + 1);
      }),
      fuzz(300),
    ),
  );
  // Every way a call can end must actually be exercised, or the property says little.
  t.log([...seen].map(([k, n]) => `${k}: ${n}`).join(', '));
  t.deepEqual([...seen.keys()].sort(), ['error:crash', 'error:output-limit', 'error:trap', 'result']);
});

test('a stale result (an earlier id) or one for a later id never answers the pending call: the repeat of the last answer is dropped once, anything else ends the container', async (t) => {
  const f = fake(1 << 16);
  f.feed(READY);
  const first = f.pc.call('echo', 1);
  const result = (id: number) =>
    frame(1, Buffer.from(`${JSON.stringify({ type: 'result', id, ok: true, output: String(id), stdout: '', stderr: '', truncated: false })}\n`));
  f.feed(result(1));
  t.is(((await first) as { output: string }).output, '1');
  const second = f.pc.call('echo', 2);
  // The host's own answer after a look-alike the plugin wrote: dropped, the call still waits.
  f.feed(result(1));
  t.is(await settled(second), PENDING);
  f.feed(result(3));
  const e = await second.then(
    () => undefined,
    (err: unknown) => err,
  );
  t.true(e instanceof AirlockError && e.code === 'crash', String(e));
  t.regex((e as AirlockError).message, /no call is waiting for/);
  f.end();
});
