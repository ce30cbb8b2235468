/**
 * Matrix row proto.unicode: names are checked before any engine sees a
 * plugin, so one test covers every column. Look-alike (Cyrillic, full-width),
 * invisible (zero-width) and bidi-control characters in plugin names, tool
 * names and network entries are refused with the field named; a request to a
 * look-alike host is compared in its punycode form and does not match the
 * ASCII entry it imitates.
 */
import test from 'ava';
import { isAllowed, parseAuthority } from '../../src/capabilities/network/allow.ts';
import { validatePlugin } from '../../src/manifest/index.ts';
import { manifestObject, writePlugin } from '../helpers/plugin.ts';
import { tempDir } from '../helpers/plugin.ts';

function problems(manifest: Record<string, unknown>): string[] {
  const dir = tempDir();
  try {
    writePlugin(manifest, { 'main.py': '' }, dir);
  } catch {
    // loadPlugin throws on an invalid manifest; validatePlugin below reports why.
  }
  const r = validatePlugin(dir);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
}

const tool = (name: string) => ({ tools: [{ name, description: 'x', input: { type: 'object' } }] });

test('matrix proto.unicode: look-alike, invisible and bidi characters in names are refused before any engine', (t) => {
  t.deepEqual(problems(manifestObject()), [], 'the ASCII baseline is valid');
  for (const [what, m, field] of [
    ['Cyrillic a in the plugin name', manifestObject({ name: '\u0430irlock' }), 'name'],
    ['zero-width space in the plugin name', manifestObject({ name: 'echo\u200b' }), 'name'],
    ['zero-width joiner in a tool name', manifestObject(tool('ec\u200dho')), 'tools'],
    ['full-width letters in a tool name', manifestObject(tool('\uff45cho')), 'tools'],
    ['right-to-left override in a tool name', manifestObject(tool('echo\u202etxt')), 'tools'],
    ['combining mark in a tool name', manifestObject(tool('e\u0301cho')), 'tools'],
    ['Cyrillic a in a network entry', manifestObject({ permissions: { network: { allow: ['\u0430pi.example.com:443'] } } }), 'permissions'],
    ['bidi override in a network entry', manifestObject({ permissions: { network: { allow: ['api.example.com\u202e:443'] } } }), 'permissions'],
  ] as const) {
    const p = problems(m);
    t.true(p.length > 0, `${what}: accepted`);
    t.true(
      p.some((x) => x.startsWith(field)),
      `${what}: the problem names ${field}: ${p.join('; ')}`,
    );
  }
  // A request to a look-alike host is its punycode form, which no ASCII entry matches.
  const grant = {
    allow: [
      { host: 'api.example.com', wildcard: false },
      { host: 'example.com', wildcard: true },
    ],
  };
  for (const host of ['\u0430pi.example.com', 'api.\u0435xample.com', 'api.example.com\u3002evil.test']) {
    const target = parseAuthority('https', host);
    t.false(target !== undefined && isAllowed(grant, target), `${host} -> ${JSON.stringify(target)}`);
  }
  t.true(isAllowed(grant, parseAuthority('https', 'API.Example.COM')!), 'the ASCII name itself, in any case, still matches');
});
