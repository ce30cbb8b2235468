/**
 * Build-time code escape: componentize-py and componentize-js run the
 * plugin's top-level code while building, clang reads whatever a source
 * names, jco parses plugin bytes. Every build path runs sandboxed: the
 * hostile fixtures' attempts (a .pth in the host's site-packages, a file in
 * $HOME or Node's folder, a host secret, a program, the network) get nothing
 * and no host file changes.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildPlugin } from '../../src/build/index.ts';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { isAirlockError } from '../../src/errors.ts';

const tmp = mkdtempSync(join(tmpdir(), 'airlock-escape-test-'));
const cacheRoot = join(tmp, 'cache');
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

// A host file outside any plugin folder (a JS module, so an import that reached it would succeed).
const secretDir = mkdtempSync(join(tmpdir(), 'airlock-host-secret-'));
const secret = join(secretDir, 'secret.js');
writeFileSync(secret, 'export default "HOST-SECRET";\n');
test.after.always(() => rmSync(secretDir, { recursive: true, force: true }));

const sitePackages = JSON.parse(
  execFileSync('python3', ['-c', 'import json, site; print(json.dumps(site.getsitepackages()))'], { encoding: 'utf8' }),
) as string[];
const nodeDir = dirname(process.execPath);
const watched = [...sitePackages, homedir(), nodeDir];
const listing = (): Record<string, string[]> => Object.fromEntries(watched.map((d) => [d, readdirSync(d).sort()]));

// Counts connections: a build that reached the host's loopback would show here.
let connections = 0;
const server: Server = createServer((s) => {
  connections++;
  s.destroy();
});
let port = 0;
test.before(async () => {
  port = await new Promise<number>((done) => server.listen(0, '127.0.0.1', () => done((server.address() as { port: number }).port)));
});
test.after.always(() => server.close());

function hostile(name: string): string {
  const dir = mkdtempSync(join(tmp, `${name}-`));
  cpSync(join(FIXTURES_DIR, name), dir, { recursive: true });
  const targets = { sitePackages, home: homedir(), nodeDir, secret, port };
  writeFileSync(join(dir, 'targets.json'), JSON.stringify(targets));
  writeFileSync(join(dir, 'targets.js'), `export default ${JSON.stringify(targets)};\n`);
  return dir;
}

test.serial(
  "a Python plugin's build-time code cannot plant a .pth in the host's site-packages, write $HOME, read a host file, exec or reach the network",
  async (t) => {
    const before = listing();
    // The fixture fails its own build with "ESCAPED: <what>" when any attempt succeeds.
    const r = await buildPlugin(hostile('build-escape-py'), { cacheRoot });
    t.false(r.cached);
    t.deepEqual(listing(), before);
    t.is(connections, 0);
  },
);

test.serial("a JS plugin's build-time code cannot import a host file or reach the network, and changes no host file", async (t) => {
  const before = listing();
  const r = await buildPlugin(hostile('build-escape-js'), { cacheRoot });
  t.false(r.cached);
  t.deepEqual(listing(), before);
  t.is(connections, 0);
});

function cPlugin(name: string, source: string): string {
  const dir = mkdtempSync(join(tmp, `${name}-`));
  writeFileSync(
    join(dir, 'plugin.yaml'),
    `apiVersion: airlock/v1\nname: ${name}\nversion: 0.1.0\nruntime: wasm\nentry: main.c\ntools:\n  - { name: echo, description: Echo, input: { type: object } }\n`,
  );
  writeFileSync(join(dir, 'main.c'), source);
  return dir;
}

test.serial('a C source cannot .incbin a host file, Node or the home folder into the component', async (t) => {
  const before = listing();
  for (const target of [secret, process.execPath, join(homedir(), '.bashrc')]) {
    const err = await t.throwsAsync(
      buildPlugin(cPlugin('incbin-host', `__asm__(".section .rodata.s,\\"\\",@\\n.incbin \\"${target}\\"\\n");\n`), { cacheRoot }),
    );
    t.true(isAirlockError(err, 'build-failed'), String(err));
    t.regex(err?.message ?? '', /clang failed[\s\S]*(No such file|not found|Could not find)/, target);
  }
  t.deepEqual(listing(), before);
});

test.serial('a C source that .incbins /dev/zero fails build-failed naming the memory limit and its variable', async (t) => {
  const saved = process.env.AIRLOCK_BUILD_MEMORY_MB;
  process.env.AIRLOCK_BUILD_MEMORY_MB = '512';
  try {
    const err = await t.throwsAsync(buildPlugin(cPlugin('zero', '__asm__(".section .rodata.z,\\"\\",@\\n.incbin \\"/dev/zero\\"\\n");\n'), { cacheRoot }));
    t.true(isAirlockError(err, 'build-failed'), String(err));
    t.regex(err?.message ?? '', /main\.c: the build went past its memory limit \(512 MiB per process\); .*AIRLOCK_BUILD_MEMORY_MB/);
  } finally {
    if (saved === undefined) delete process.env.AIRLOCK_BUILD_MEMORY_MB;
    else process.env.AIRLOCK_BUILD_MEMORY_MB = saved;
  }
});

test.serial('a component or core module entry is parsed in the sandboxed child: garbage and a module without the export are build-failed', async (t) => {
  const dir = cPlugin('core', '');
  // A component header with a body no parser accepts.
  writeFileSync(join(dir, 'bad.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]));
  const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot, entry: 'bad.wasm' }));
  t.true(isAirlockError(err, 'build-failed'), String(err));
  t.regex(err?.message ?? '', /bad\.wasm: not a valid WebAssembly component/);

  // An empty core module: the wrap (in the same child) refuses it.
  writeFileSync(join(dir, 'core.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  const wrap = await t.throwsAsync(buildPlugin(dir, { cacheRoot, entry: 'core.wasm' }));
  t.true(isAirlockError(wrap, 'build-failed'), String(wrap));
  t.regex(wrap?.message ?? '', /core\.wasm: cannot make a component from the core module/);
});
