/**
 * `node scripts/bundle.ts [dist]`, the last step of `npm run build`: the
 * main thread's code, compiled by tsc into dist/, as one file,
 * dist/bundle/airlock.cjs, with dist/bundle/index.js exporting the library
 * from it. Installed, `airlock` and `import('airlock')` load that file
 * (src/bundle-load.ts) instead of ~140 modules, with V8's code cache of an
 * earlier run: a fresh `airlock call` resolves, reads and compiles almost
 * nothing (issue 21).
 *
 * What loads when does not change. CommonJS, because its `require` of a
 * package runs where the code asks for it (an ES bundle would import every
 * package up front); each module, dynamically imported or lazily required
 * (src/lazy.ts), runs on first use as before. Packages stay in node_modules.
 * Each module's `import.meta.url` is its file's in dist/, so what Airlock
 * finds beside its modules (worker entries, helper scripts, package.json,
 * wit/, runtimes/) it finds as before; worker threads and child processes
 * run dist/'s files. src/bundle-load.ts and the modules it imports stay in
 * dist/, required by the bundle (one copy of each per process).
 */
import { build, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = resolve(process.argv[2] ?? 'dist');
const out = join(dist, 'bundle');
const outfile = join(out, 'airlock.cjs');

/** Loaded from dist/ by the loader before the bundle, and required from there by the bundle (src/bundle-load.ts). */
const SHARED = ['bundle-load.js', 'code-cache.js', 'paths.js', 'errors.js'].map((f) => join(dist, f));

/** `lazyModule(import.meta.url, './path')` as tsc emits it (src/lazy.ts: a relative path without extension). */
const LAZY = /lazyModule\(import\.meta\.url, (['"])(\.{1,2}\/[^'"]+)\1\)/g;

const fail = (message: string): never => {
  throw new Error(`scripts/bundle.ts: ${message}`);
};

const dialect: Plugin = {
  name: 'airlock-esm-in-cjs',
  setup(b) {
    b.onResolve({ filter: /^\.{1,2}\// }, (args) => {
      const file = resolve(args.resolveDir, args.path);
      return SHARED.includes(file) ? { path: `./${relative(out, file).split(sep).join('/')}`, external: true } : undefined;
    });
    b.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(`${dist}${sep}`)) return undefined;
      let text = readFileSync(args.path, 'utf8');
      const name = relative(dist, args.path);
      // A lazy module is required where it is first used, from the bundle: the free `require` esbuild bundles.
      if (text.includes('lazyModule(import.meta.url') && /^(?:const|let|var) require\b/m.test(text))
        fail(`${name} binds \`require\` and uses lazyModule: rename its require`);
      text = text.replace(LAZY, (_all, _q, path: string) => `(() => { let m; return () => (m ??= require(${JSON.stringify(`${path}.js`)})); })()`);
      // import.meta.resolve becomes the loader's: the same for a package name, not for a relative path.
      if (/import\.meta\.resolve\(\s*['"`]\./.test(text)) fail(`${name} resolves a relative path with import.meta.resolve: use new URL(path, import.meta.url)`);
      // The module's own file, through the bundle's URL (given by src/bundle-load.ts).
      const own = relative(out, args.path).split(sep).join('/');
      text = text
        .replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, __airlockBundleUrl).href`)
        .replaceAll('import.meta.resolve(', '__airlockResolve(');
      if (text.includes('import.meta')) fail(`${name} uses import.meta beyond url and resolve()`);
      return { contents: text, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
  // The CLI's entry, and the library's, evaluated on first use: a command does not run the library's top level.
  stdin: {
    contents: "export { runProcess } from './cli/main.js';\nexport const library = () => require('./index.js');\n",
    resolveDir: dist,
    sourcefile: 'airlock-bundle.js',
  },
  outfile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  packages: 'external',
  // Error names and stack frames keep the classes' and functions' own names.
  keepNames: true,
  plugins: [dialect],
  logLevel: 'warning',
  write: false,
});

let code = result.outputFiles[0]?.text ?? fail('esbuild wrote nothing');
// esbuild gives an ES module required from an ES module (Node's require(esm): p-queue, zod) its namespace as
// `default`, as it would a CommonJS module's exports; Node's import gives the module's own default.
const NODE_MODE = 'isNodeMode || !mod || !mod.__esModule';
if (code.split(NODE_MODE).length !== 2) fail(`esbuild's __toESM changed: "${NODE_MODE}" is not there once`);
code = code.replace(NODE_MODE, '(isNodeMode && !(mod && mod[Symbol.toStringTag] === "Module")) || !mod || !mod.__esModule');
// The loader names V8's code cache by this hash (a cache of other text must never be taken: V8 checks only the length).
writeFileSync(outfile, `// airlock-bundle ${createHash('sha256').update(code).digest('hex')}\n${code}`);

// The library's entry: the bundle's exports by name (an ES module cannot re-export an object's keys otherwise).
const names = Object.keys(await import(pathToFileURL(join(dist, 'index.js')).href)).sort();
writeFileSync(
  join(out, 'index.js'),
  `// The library (package.json exports), from the bundle: scripts/bundle.ts.
import { loadBundle } from '../bundle-load.js';
const airlock = loadBundle('library').library();
export const { ${names.join(', ')} } = airlock;
`,
);
