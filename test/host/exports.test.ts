import { existsSync, readFileSync } from 'node:fs';
import test from 'ava';
import * as api from '../../src/index.ts';

test('the package main entry (src/index.ts -> dist/index.js, installed as its bundle dist/bundle/index.js) exports the PluginHost API', (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    main: string;
    types: string;
    exports: { '.': { types: string; default: string } };
    bin: { airlock: string };
  };
  // scripts/bundle.ts makes dist/bundle/index.js from dist/index.js: the same exports (test/scripts/bundle.test.ts).
  t.is(pkg.main, 'dist/bundle/index.js');
  t.is(pkg.types, 'dist/index.d.ts');
  t.deepEqual(pkg.exports['.'], { types: './dist/index.d.ts', default: './dist/bundle/index.js' });
  // tsc maps src/<x>.ts to dist/<x>.js (tsconfig rootDir src, outDir dist).
  t.true(existsSync(new URL('../../src/index.ts', import.meta.url)));
  // The command is bin/airlock.js (plain JavaScript, checks Node's version), which imports src/cli/main.ts or loads dist/'s bundle.
  t.is(pkg.bin.airlock, 'bin/airlock.js');
  t.true(existsSync(new URL('../../src/cli/main.ts', import.meta.url)));
  for (const name of [
    'PluginHost',
    'Agent',
    'toOpenAITool',
    'toAnthropicTool',
    'createMcpServer',
    'serveHttp',
    'serveStdio',
    'AirlockError',
    'isAirlockError',
    'defaultEngineProvider',
    'initPlugin',
  ] as const) {
    // biome-ignore lint/performance/noDynamicNamespaceImportAccess: the test walks the public API by name on purpose
    t.is(typeof api[name], 'function', name);
  }
});
