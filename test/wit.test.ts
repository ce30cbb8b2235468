/** src/wit.ts names what wit/airlock-plugin.wit (and the C glue beside it) defines, so no engine checks a name the world does not have. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  INVOKE_TARGET,
  TOOLS_CALL_CORE_EXPORT,
  TOOLS_INTERFACE,
  TOOLS_INTERFACE_VERSIONED,
  WIT_PACKAGE,
  WIT_PATH,
  WIT_VERSION,
  WIT_WORLD,
  WIT_WORLD_ID,
} from '../src/wit.ts';

const wit = readFileSync(WIT_PATH, 'utf8');

test('the package and version are the ones the .wit file declares', (t) => {
  t.is(WIT_PATH, join(import.meta.dirname, '..', 'wit', 'airlock-plugin.wit'));
  const pkg = /^package ([\w-]+:[\w-]+)@([\w.-]+);$/m.exec(wit);
  t.deepEqual(pkg?.slice(1), [WIT_PACKAGE, WIT_VERSION]);
});

test('the world exports the tools interface, which has `call`', (t) => {
  const world = new RegExp(`^world ${WIT_WORLD} \\{([^}]*)\\}`, 'm').exec(wit);
  t.truthy(world, `world ${WIT_WORLD}`);
  t.regex(world?.[1] ?? '', /^\s*export tools;$/m);
  const iface = /^interface tools \{([\s\S]*?)^\}/m.exec(wit);
  t.regex(iface?.[1] ?? '', /^\s*call: func\(name: string, input: string\)/m);
  t.is(TOOLS_INTERFACE, `${WIT_PACKAGE}/tools`);
  t.is(WIT_WORLD_ID, `${WIT_PACKAGE}/${WIT_WORLD}`);
});

test('the versioned, core-export and --invoke spellings are the ones components, the C glue and wasmtime use', (t) => {
  t.is(TOOLS_INTERFACE_VERSIONED, 'airlock:plugin/tools@0.1.0');
  t.is(INVOKE_TARGET, 'airlock:plugin/tools.call@0.1.0');
  const header = readFileSync(join(import.meta.dirname, '..', 'wit', 'c', 'airlock_tools.h'), 'utf8');
  t.true(header.includes(`export_name("${TOOLS_CALL_CORE_EXPORT}")`), TOOLS_CALL_CORE_EXPORT);
  t.true(header.includes(`export_name("cabi_post_${TOOLS_CALL_CORE_EXPORT}")`));
});
