/**
 * Rust plugins (src/build/rust.ts): a cargo package built for wasm32-wasip2 in the build sandbox. Its build
 * script (plugin code run at build time) sees neither the host's files nor its network, and the plugin's
 * own .cargo/config.toml is not used. (The rust template building and answering is test/cli/init.test.ts.)
 */
import { createServer } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { buildPlugin } from '../../src/build/index.ts';
import { AirlockError } from '../../src/errors.ts';
import { tempDir } from '../helpers/plugin.ts';

const MANIFEST =
  'apiVersion: airlock/v1\nname: rusty\nversion: 0.1.0\nruntime: wasm\nentry: src/lib.rs\ntools:\n  - name: t\n    description: T.\n    input: { type: object }\n';

function plugin(files: Record<string, string>): string {
  const dir = join(tempDir('airlock-rust-'), 'rusty');
  for (const [f, text] of Object.entries({ 'plugin.yaml': MANIFEST, 'src/lib.rs': '', ...files })) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

test('a Rust build script runs in the sandbox: no host file, no network, and the plugin .cargo/config.toml is not read', async (t) => {
  t.timeout(10 * 60_000);
  const secret = join(tempDir('airlock-rust-secret-'), 'secret.txt');
  writeFileSync(secret, 'host secret');
  let connections = 0;
  const server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const dir = plugin({
    'Cargo.toml': '[package]\nname = "rusty"\nversion = "0.1.0"\nedition = "2021"\nbuild = "build.rs"\n\n[lib]\ncrate-type = ["cdylib"]\n',
    'build.rs': `fn main() {
    let secret = std::fs::read_to_string(${JSON.stringify(secret)}).is_ok();
    let network = std::net::TcpStream::connect("127.0.0.1:${port}").is_ok();
    let config = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default().contains("from_plugin_config");
    panic!("build.rs ran: secret={secret} network={network} config={config}");
}
`,
    '.cargo/config.toml': '[build]\nrustflags = ["--cfg", "from_plugin_config"]\n',
  });
  const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot: join(dir, '..', 'cache') }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
  t.regex(err?.message ?? '', /cargo build failed:[\s\S]*build\.rs ran: secret=false network=false config=false/);
  t.is(connections, 0);
});

test('a Rust entry without Cargo.toml beside plugin.yaml is a build error saying how to get one', async (t) => {
  const dir = plugin({});
  const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot: join(dir, '..', 'cache') }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
  t.is(err?.message, `${join(dir, 'src/lib.rs')}: a Rust entry needs its Cargo.toml beside plugin.yaml; run \`airlock init --template rust\` for one`);
});

test('without the wasm32-wasip2 target the build names the rustup command that installs it', async (t) => {
  // A toolchain whose sysroot has no wasm32-wasip2 standard library.
  const sysroot = tempDir('airlock-rust-sysroot-');
  mkdirSync(join(sysroot, 'bin'));
  mkdirSync(join(sysroot, 'lib', 'rustlib', 'x86_64-unknown-linux-gnu'), { recursive: true });
  writeFileSync(join(sysroot, 'bin', 'rustc'), `#!/bin/sh\nif [ "$1" = --print ]; then echo ${sysroot}; else echo 'rustc 1.0.0 (fake)'; fi\n`, { mode: 0o755 });
  writeFileSync(join(sysroot, 'bin', 'cargo'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  const dir = plugin({ 'Cargo.toml': '[package]\nname = "rusty"\nversion = "0.1.0"\n' });
  const env = { ...process.env, PATH: `${join(sysroot, 'bin')}:/usr/bin:/bin` };
  const err = await t.throwsAsync(buildPlugin(dir, { env, cacheRoot: join(dir, '..', 'cache') }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
  t.regex(err?.message ?? '', /the Rust target wasm32-wasip2 is not installed \(rustc 1\.0\.0 \(fake\)\); rustup target add wasm32-wasip2$/);
});

test('a crate from anywhere but crates.io (git, another index, a [patch] or [replace] however TOML spells it) is refused before anything is downloaded', async (t) => {
  const base = '[package]\nname = "rusty"\nversion = "0.1.0"\nedition = "2021"\n\n[lib]\ncrate-type = ["cdylib"]\n';
  for (const [extra, pattern] of [
    [
      '[dependencies]\nfoo = { git = "http://127.0.0.1:9/foo.git" }\n',
      /Cargo\.toml: dependency foo comes from git\+http:\/\/127\.0\.0\.1:9\/foo\.git; use crates from crates\.io/,
    ],
    [
      '[dependencies]\nfoo = { version = "1", registry-index = "http://127.0.0.1:9/index" }\n',
      /Cargo\.toml: dependency foo comes from registry\+http:\/\/127\.0\.0\.1:9\/index/,
    ],
    ['[patch.crates-io]\nserde = { path = "serde" }\n', /Cargo\.toml: a \[patch\] table; remove it/],
  ] as const) {
    const dir = plugin({ 'Cargo.toml': base + extra });
    const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot: join(dir, '..', 'cache') }), { instanceOf: AirlockError });
    t.is(err?.code, 'build-failed');
    t.regex(err?.message ?? '', pattern);
  }
  // TOML's other spellings of the same tables: a top-level dotted key, a quoted table name (cargo metadata shows neither).
  for (const [toml, pattern] of [
    [`patch.crates-io.foo.git = "http://127.0.0.1:9/evil.git"\n${base}`, /Cargo\.toml: a \[patch\] table; remove it/],
    [`${base}\n["replace"]\n"foo:0.1.0" = { git = "http://127.0.0.1:9/evil.git" }\n`, /Cargo\.toml: a \[replace\] table; remove it/],
    [`${base}\n[dependencies\n`, /Cargo\.toml: (cargo cannot read it|it is not valid TOML)/],
  ] as const) {
    const dir = plugin({ 'Cargo.toml': toml });
    const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot: join(dir, '..', 'cache') }), { instanceOf: AirlockError });
    t.is(err?.code, 'build-failed');
    t.regex(err?.message ?? '', pattern);
  }
});

test('a Rust build script filling the output folder with names is refused by a bounded listing, not listed whole on the host', async (t) => {
  t.timeout(10 * 60_000);
  const dir = plugin({
    'Cargo.toml': '[package]\nname = "rusty"\nversion = "0.1.0"\nedition = "2021"\nbuild = "build.rs"\n\n[lib]\ncrate-type = ["cdylib"]\n',
    // OUT_DIR is target/wasm32-wasip2/release/build/rusty-<hash>/out: three folders up is where the .wasm lands.
    'build.rs': `fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let release = out.ancestors().nth(3).unwrap();
    for i in 0..2000 { std::fs::write(release.join(format!("junk{i}")), b"").unwrap(); }
}
`,
  });
  const err = await t.throwsAsync(buildPlugin(dir, { cacheRoot: join(dir, '..', 'cache') }), { instanceOf: AirlockError });
  t.is(err?.code, 'build-failed');
  t.regex(err?.message ?? '', /wasm32-wasip2\/release: cargo's output folder holds more than 1000 entries/);
});
