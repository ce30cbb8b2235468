import test from 'ava';
import { isAirlockError } from '../../src/errors.ts';
import { computeGrants, defaultPolicy } from '../../src/grants/index.ts';
import { annotationsFor, toAnthropicTool, toolInfo, toOpenAITool, ToolValidators } from '../../src/host/catalog.ts';
import { loadPlugin } from '../../src/manifest/index.ts';
import { makeGrants } from '../helpers/grants.ts';
import { manifestObject, writePlugin } from '../helpers/plugin.ts';
import { fixture } from './helpers.ts';

const TOOL_NAME_RULE = /^[a-zA-Z0-9_-]{1,64}$/;

test('tools are named plugin_tool and convert to the OpenAI and Anthropic formats unchanged', (t) => {
  const plugin = loadPlugin(fixture('echo-c'));
  const grants = computeGrants(plugin, defaultPolicy());
  const add = plugin.manifest.tools.find((x) => x.name === 'add');
  if (add === undefined) return t.fail('echo-c has no add tool');
  const info = toolInfo('echo-c', add, grants);
  t.is(info.name, 'echo-c_add');
  t.regex(info.name, TOOL_NAME_RULE);
  t.deepEqual(toOpenAITool(info), {
    type: 'function',
    function: { name: 'echo-c_add', description: 'Adds a and b.', parameters: add.input },
  });
  t.deepEqual(toAnthropicTool(info), { name: 'echo-c_add', description: 'Adds a and b.', input_schema: add.input });
});

test('the longest name a manifest allows (64 characters) stays valid for every tool format', (t) => {
  const name = 'p'.repeat(58);
  const plugin = writePlugin(manifestObject({ name, tools: [{ name: 'hello', description: 'Hi', input: { type: 'object' } }] }));
  const tool = plugin.manifest.tools[0];
  if (tool === undefined) return t.fail('no tool');
  const info = toolInfo(name, tool, computeGrants(plugin, defaultPolicy()));
  t.is(info.name.length, 64);
  t.regex(toOpenAITool(info).function.name, TOOL_NAME_RULE);
  t.regex(toAnthropicTool(info).name, TOOL_NAME_RULE);
});

test('a name over 64 characters is refused when the plugin loads, with the limit and a fix', (t) => {
  const error = t.throws(() =>
    writePlugin(manifestObject({ name: 'p'.repeat(58), tools: [{ name: 'hello2', description: 'Hi', input: { type: 'object' } }] })),
  );
  if (!isAirlockError(error)) return t.fail('not an AirlockError');
  t.is(error.code, 'invalid-manifest');
  const problem = error.problems.find((p) => p.path === 'tools[0].name');
  t.truthy(problem);
  t.regex(problem?.message ?? '', /65 characters; the limit is 64/);
  t.regex(problem?.hint ?? '', /at most 5 characters/);
});

test('annotations: read-only only when nothing is writable, open-world exactly when network is granted', (t) => {
  t.deepEqual(annotationsFor(makeGrants()), { readOnlyHint: true, openWorldHint: false });
  t.deepEqual(annotationsFor(makeGrants({ filesystem: [{ hostPath: '/srv/a', mount: '/a', access: 'read' }] })), { readOnlyHint: true, openWorldHint: false });
  t.deepEqual(annotationsFor(makeGrants({ filesystem: [{ hostPath: '/srv/a', mount: '/a', access: 'read-write' }] })), {
    readOnlyHint: false,
    openWorldHint: false,
  });
  // An outgoing request can change the world as much as a file write can.
  t.deepEqual(annotationsFor(makeGrants({ network: { allow: [{ host: 'api.example.com', wildcard: false, port: 443 }] } })), {
    readOnlyHint: false,
    openWorldHint: true,
  });
});

test('annotations: author claims can take read-only away and say destructive/idempotent/title, never add read-only or open the world', (t) => {
  const none = makeGrants();
  const readWrite = makeGrants({ filesystem: [{ hostPath: '/srv/a', mount: '/a', access: 'read-write' }] });
  const network = makeGrants({ network: { allow: [{ host: 'api.example.com', wildcard: false, port: 443 }] } });
  // State kept in a pooled instance: the author says it is not read-only.
  t.deepEqual(annotationsFor(none, { readOnly: false, destructive: false }), { readOnlyHint: false, openWorldHint: false, destructiveHint: false });
  t.deepEqual(annotationsFor(none, { destructive: true }), { readOnlyHint: false, openWorldHint: false, destructiveHint: true });
  // Nothing writable and no claim: destructive is meaningless beside read-only, so it is not sent.
  t.deepEqual(annotationsFor(none, { destructive: false, idempotent: true, title: 'Echo' }), {
    readOnlyHint: true,
    openWorldHint: false,
    idempotentHint: true,
    title: 'Echo',
  });
  t.deepEqual(annotationsFor(network, { destructive: false }), { readOnlyHint: false, openWorldHint: true, destructiveHint: false });
  // A read-write grant outweighs a claim of "additive only" (the manifest refuses the pair; a grant decides too).
  t.deepEqual(annotationsFor(readWrite, { destructive: false }), { readOnlyHint: false, openWorldHint: false, destructiveHint: true });
});

test('toolInfo carries the manifest annotations through the grants', (t) => {
  const plugin = writePlugin(
    manifestObject({
      tools: [{ name: 'echo', description: 'Echo', input: { type: 'object' }, annotations: { title: 'Echo it', idempotent: true, readOnly: false } }],
    }),
  );
  const tool = plugin.manifest.tools[0];
  if (tool === undefined) return t.fail('no tool');
  t.deepEqual(toolInfo('demo', tool, computeGrants(plugin, defaultPolicy())).annotations, {
    readOnlyHint: false,
    openWorldHint: false,
    idempotentHint: true,
    title: 'Echo it',
  });
});

test('input validation names each bad field; output validation is its own code', (t) => {
  const validators = new ToolValidators({
    name: 'add',
    description: 'Adds',
    input: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
    output: { type: 'object', properties: { sum: { type: 'number' } }, required: ['sum'] },
  });
  const checkInput = (v: unknown) => validators.checkInput('x_add', v, JSON.stringify(v), 10_000);
  const checkOutput = (v: unknown) => validators.checkOutput('x_add', v, JSON.stringify(v), 10_000);
  t.notThrows(() => checkInput({ a: 1, b: 2 }));
  const input = t.throws(() => checkInput({ a: 'one' }));
  if (!isAirlockError(input)) return t.fail('not an AirlockError');
  t.is(input.code, 'invalid-input');
  t.deepEqual(input.problems.map((p) => p.message).sort(), ["input must have required property 'b'", 'input.a must be number']);
  const output = t.throws(() => checkOutput({ total: 3 }));
  t.true(isAirlockError(output, 'invalid-output'));
  t.notThrows(() => checkOutput({ sum: 3 }));
});

test('a schema with an $id loads and compiles again (a reload, a second agent)', (t) => {
  const tool = { name: 'a', description: 'A', input: { $id: 'https://example.com/input.json', type: 'object' } };
  t.notThrows(() => {
    new ToolValidators(tool);
    new ToolValidators(tool);
  });
  const plugin = writePlugin(manifestObject({ tools: [tool] }));
  t.notThrows(() => loadPlugin(plugin.dir));
});

test("validators compile on a tool's first check, not at load: a load of many tools costs the event loop no code generation", (t) => {
  // A schema ajv cannot compile (the manifest check refuses it; here it shows when compiling happens).
  const tool = { name: 'a', description: 'A', input: { type: 'object', properties: { x: { $ref: '#/definitions/missing' } } } };
  const validators = new ToolValidators(tool);
  t.throws(() => validators.checkInput('p_a', {}, '{}', 10_000), { message: /missing/ });
});
