/**
 * Bundles a JavaScript plugin's entry with its npm dependencies (esbuild) for
 * ./wasm.ts, before componentize-js, which takes one module. It runs in the
 * build sandbox (see ./sandbox.ts): esbuild parses hostile files. Nothing of
 * the plugin runs here: esbuild only parses and prints, package.json scripts
 * are never run, and the only esbuild plugin is the one below (resolution
 * rules, no loaders).
 *
 *   node bundle-js-child.ts <esbuild module URL> <plugin folder> <entry> <out.js>
 *
 * Exit 0: the bundle is written, and stdout says `single` when the entry
 * imports nothing (then the entry is built as it is, so its lines stay its
 * own) or `bundle <n>` with the count of files bundled. Exit 1: errors on
 * stderr, one per line as `file:line:column: text`. Exit 3: the entry itself
 * does not parse (componentize-js then says where, with the line). No imports of Airlock's
 * own modules: the sandbox holds only this folder and the packages named by URL.
 */
import { builtinModules } from 'node:module';

type Esbuild = typeof import('esbuild');

const [esbuildUrl, root, entry, out] = process.argv.slice(2);
if (esbuildUrl === undefined || root === undefined || entry === undefined || out === undefined) {
  process.stderr.write('usage: bundle-js-child <esbuild URL> <plugin folder> <entry> <out.js>\n');
  process.exit(2);
}
const esbuild = (await import(esbuildUrl)) as Esbuild;

const DOCKER = 'use a dependency that works without it, or run the plugin on Docker (`runtime: node`, which installs package.json dependencies)';
// Node's built-in modules, bare (`fs`, `fs/promises`) or with the `node:` scheme.
const AS_PACKAGE = Symbol('as a package');
const builtins = new RegExp(`^(${builtinModules.map((m) => m.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);

const result = await esbuild
  .build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    write: true,
    metafile: true,
    // A component is neither Node nor a browser: no built-ins, ES modules out, `module` then `main` of a package.
    platform: 'neutral',
    format: 'esm',
    mainFields: ['module', 'main'],
    conditions: ['import', 'default'],
    logLevel: 'silent',
    plugins: [
      {
        name: 'airlock-wasm',
        setup(build) {
          build.onResolve({ filter: /^[a-zA-Z][\w+.-]*:/ }, (a) => {
            if (a.path.startsWith('node:'))
              return { errors: [{ text: `imports "${a.path}", a Node.js built-in module, which a WebAssembly component does not have; ${DOCKER}` }] };
            // WIT imports (`wasi:cli/environment@0.2.3`, `airlock:…`): componentize-js links them.
            return { path: a.path, external: true };
          });
          // A bare built-in name the plugin installed a package for (`events`, `buffer` polyfills) is that package.
          build.onResolve({ filter: builtins }, async (a) => {
            if (a.pluginData === AS_PACKAGE) return undefined;
            const r = await build.resolve(a.path, { kind: a.kind, importer: a.importer, resolveDir: a.resolveDir, pluginData: AS_PACKAGE });
            if (r.errors.length === 0) return { path: r.path, namespace: r.namespace, external: r.external, sideEffects: r.sideEffects };
            return { errors: [{ text: `imports "${a.path}", a Node.js built-in module, which a WebAssembly component does not have; ${DOCKER}` }] };
          });
          build.onResolve({ filter: /\.node$/ }, (a) => ({
            errors: [{ text: `imports "${a.path}", a native Node.js addon, which cannot run in a WebAssembly component; ${DOCKER}` }],
          }));
        },
      },
    ],
  })
  .catch((e: { errors?: import('esbuild').Message[] }) => {
    const errors = e.errors ?? [];
    // Only the entry's own syntax errors: the build goes on unbundled, and componentize-js reports them with the
    // offending line and a caret (./build-output.ts), as for an entry that imports nothing.
    if (errors.length > 0 && errors.every((m) => m.pluginName === '' && !m.text.startsWith('Could not resolve') && m.location?.file === entry)) process.exit(3);
    const lines = (errors.length > 0 ? errors : [{ text: String(e), location: null }]).map((m) => {
      const at = m.location === null ? '' : `${m.location.file}:${m.location.line}:${m.location.column + 1}: `;
      return `${at}${m.text}`;
    });
    process.stderr.write(`${lines.join('\n')}\n`);
    process.exit(1);
  });

const inputs = Object.keys(result.metafile.inputs);
// Only the plugin's own files: one outside its folder would not be in its content hash.
const outside = inputs.filter((i) => i.startsWith('../') || i.startsWith('/'));
if (outside.length > 0) {
  process.stderr.write(
    `${outside[0]}: resolves outside the plugin folder; install the dependency into the plugin's own node_modules (npm install in the plugin folder)\n`,
  );
  process.exit(1);
}
process.stdout.write(inputs.length <= 1 ? 'single\n' : `bundle ${inputs.length}\n`);
