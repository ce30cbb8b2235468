// Airlock's in-container host for Node plugins (runs as the container's command, under docker's init).
//
// Protocol: JSON lines. The first line on stdin is {"type":"hello","token":"<random>"}, read before the plugin
// loads; every error the host raises itself (origin: airlock) carries the token, so the engine can tell it
// from a plugin that writes a look-alike line to fd 3 (which it can reach). The token lives only in this
// module's scope, never in the environment (/proc/self/environ would show it).
// Requests follow on stdin: {"id":1,"tool":"forecast","input":{...}}. Answers go to
// fd 3, which the image's command points at the container's stdout (`exec 3>&1 1>&2`), so anything the
// plugin or its children write to fd 1 or 2 can never corrupt the protocol stream:
//   {"type":"ready","runtime":"node","version":"v24.x"}                            once, after the entry loaded
//   {"type":"fatal","error":{"code":"plugin-error","message":"..."}}              the entry could not be loaded
//   {"type":"result","id":1,"ok":true,"output":"<JSON text>","stdout":"","stderr":"","truncated":false}
//   {"type":"result","id":1,"ok":false,"error":{"code":"...","message":"..."},"stdout":"",...}
// The message types are declared in src/protocol.ts. One call at a time per container (the engine pools
// containers), so what the plugin prints between a request and its answer is that call's log.
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const OUT = 3;
const entry = process.argv[2];
// Limits come through the environment and are removed before the plugin loads.
const outputBytes = Number(process.env.AIRLOCK_OUTPUT_BYTES ?? 1048576);
const logBytes = Number(process.env.AIRLOCK_LOG_BYTES ?? 65536);
delete process.env.AIRLOCK_OUTPUT_BYTES;
delete process.env.AIRLOCK_LOG_BYTES;

function send(msg) {
  const line = `${JSON.stringify(msg)}\n`;
  const buf = Buffer.from(line, 'utf8');
  let off = 0;
  // fd 3 is a pipe: writeSync may write less than asked (or EAGAIN when the reader is slow).
  while (off < buf.length) {
    try {
      off += writeSync(OUT, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

// ---- per-call log capture (console.*, process.stdout/stderr.write) ----
const logs = { stdout: '', stderr: '', bytes: 0, truncated: false };
function capture(stream) {
  return function write(chunk, encoding, cb) {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const room = logBytes - logs.bytes;
    if (room <= 0) {
      logs.truncated = true;
    } else {
      const piece = Buffer.byteLength(text) > room ? Buffer.from(text).subarray(0, room).toString('utf8') : text;
      if (piece.length < text.length) logs.truncated = true;
      logs[stream] += piece;
      logs.bytes += Buffer.byteLength(piece);
    }
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') queueMicrotask(done);
    return true;
  };
}
process.stdout.write = capture('stdout');
process.stderr.write = capture('stderr');
function takeLogs() {
  const out = { stdout: logs.stdout, stderr: logs.stderr, truncated: logs.truncated };
  logs.stdout = '';
  logs.stderr = '';
  logs.bytes = 0;
  logs.truncated = false;
  return out;
}

function errorOf(e) {
  const isObj = (v) => v !== null && typeof v === 'object';
  const codeOf = (v) => (isObj(v) && typeof v.code === 'string' && v.code !== '' ? v.code : undefined);
  let message = e instanceof Error ? e.message : String(e);
  // fetch() and friends hide the reason (ECONNREFUSED, a proxy's 403) in `cause`.
  if (e instanceof Error && isObj(e.cause) && typeof e.cause.message === 'string') message += `: ${e.cause.message}`;
  const own = codeOf(e);
  // The type when the error has no code of its own (an unexpected exception), then the frames in the plugin's
  // own files, as src/engines/plugin-error.ts reads them.
  if (e instanceof Error) message = [own === undefined ? `${e.name}: ${message}` : message, ...pluginFrames(e.stack)].join('\n');
  return { code: own ?? (e instanceof Error ? codeOf(e.cause) : undefined) ?? 'plugin-error', message };
}

// The plugin's folder (the image's WORKDIR): frames in it are the plugin's, shown relative to it.
const PLUGIN_DIR = `${process.cwd()}/`;
function pluginFrames(stack) {
  const out = [];
  for (const line of typeof stack === 'string' ? stack.split('\n') : []) {
    if (!/^\s+at /.test(line) || !line.includes(PLUGIN_DIR)) continue;
    out.push(`    ${line.trim().replaceAll(`file://${PLUGIN_DIR}`, '').replaceAll(PLUGIN_DIR, '')}`);
    if (out.length === 10) break;
  }
  return out;
}

// The tools: named exports (ESM), else properties of module.exports (CommonJS, which import() exposes
// as `default`).
async function loadEntry() {
  const mod = entry.endsWith('.cjs') ? { default: createRequire(import.meta.url)(entry) } : await import(pathToFileURL(entry).href);
  const cjs = mod.default !== null && (typeof mod.default === 'object' || typeof mod.default === 'function') ? mod.default : {};
  return (tool) => {
    if (tool !== 'default' && Object.hasOwn(mod, tool)) return mod[tool];
    if (Object.hasOwn(cjs, tool)) return cjs[tool];
    return undefined;
  };
}

// Requests end at "\n" only. (node:readline also ends a line at "\r", U+2028 and U+2029, and JSON.stringify
// leaves the last two unescaped inside strings: an input holding one would arrive as two broken lines.)
async function* requestLines(input) {
  const decoder = new TextDecoder();
  let pending = [];
  for await (const chunk of input) {
    let text = decoder.decode(chunk, { stream: true });
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
      pending.push(text.slice(0, nl));
      yield pending.join('');
      pending = [];
      text = text.slice(nl + 1);
    }
    if (text !== '') pending.push(text);
  }
  const last = pending.join('') + decoder.decode();
  if (last !== '') yield last;
}

// The engine's first line: the token of host errors.
const lines = requestLines(process.stdin);
const TOKEN = await (async () => {
  const first = await lines.next();
  try {
    const hello = JSON.parse(first.value ?? '');
    if (hello.type === 'hello' && typeof hello.token === 'string') return hello.token;
  } catch {
    // reported below
  }
  send({ type: 'fatal', error: { code: 'internal', message: 'the engine sent no hello line' } });
  process.exit(1);
})();
const hostError = (code, message) => ({ code, origin: 'airlock', token: TOKEN, message });

let lookup;
try {
  lookup = await loadEntry();
} catch (e) {
  send({
    type: 'fatal',
    error: { code: 'plugin-error', message: `loading ${entry}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` },
    ...takeLogs(),
  });
  process.exit(1);
}
send({ type: 'ready', runtime: 'node', version: process.version });

async function serve(req) {
  const fn = typeof req.tool === 'string' ? lookup(req.tool) : undefined;
  if (typeof fn !== 'function') {
    return { ok: false, error: hostError('not-found', `the entry has no function named ${JSON.stringify(req.tool)}`) };
  }
  try {
    const value = await fn(req.input);
    const output = JSON.stringify(value === undefined ? null : value);
    if (Buffer.byteLength(output) > outputBytes) {
      return { ok: false, error: hostError('output-limit', `the result is ${Buffer.byteLength(output)} bytes of JSON; the limit is ${outputBytes}`) };
    }
    return { ok: true, output };
  } catch (e) {
    return { ok: false, error: errorOf(e) };
  }
}

// A plugin that exits the process mid-call: answer the call (with its logs) before the process goes.
let current;
let fatal;
process.on('exit', (code) => {
  if (current === undefined) return;
  const why = fatal ?? `the plugin exited the process (exit code ${code}) during the call`;
  send({ type: 'result', id: current, ok: false, error: hostError('crash', why), ...takeLogs() });
});
// An error thrown where no tool can catch it (a timer, an event handler) ends the process, as Node does;
// the call gets the error instead of a bare exit code.
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (e) => {
    fatal = `${event === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception'} during the call: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
    process.exit(1);
  });
}

// Requests are served one after another, in order; end of input ends the host.
for await (const line of lines) {
  let req;
  try {
    req = JSON.parse(line);
  } catch {
    req = undefined;
  }
  if (req === null || typeof req !== 'object' || Array.isArray(req)) {
    send({ type: 'fatal', error: { code: 'internal', message: 'unparseable request line' } });
    continue;
  }
  current = req.id;
  const res = await serve(req);
  current = undefined;
  send({ type: 'result', id: req.id, ...res, ...takeLogs() });
}
process.exit(0);
