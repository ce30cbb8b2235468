/** Tool annotations in plugin.yaml: what an author may claim, and what is refused before anything loads. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { stringify } from 'yaml';
import { validateManifestText } from '../../src/manifest/load.ts';
import { MAX_TITLE } from '../../src/manifest/schema.ts';
import { manifestObject, tempDir } from '../helpers/plugin.ts';

function problems(annotations: unknown, permissions?: unknown): string[] {
  const dir = tempDir();
  writeFileSync(join(dir, 'main.py'), '');
  const tools = [{ name: 'echo', description: 'Echo', input: { type: 'object' }, annotations }];
  const manifest = manifestObject(permissions === undefined ? { tools } : { tools, permissions });
  const result = validateManifestText(join(dir, 'plugin.yaml'), stringify(manifest));
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

const READ_WRITE = { filesystem: [{ path: '/tmp', mount: '/data', access: 'read-write' }] };

test('annotations: title, idempotent, destructive and readOnly: false are accepted', (t) => {
  t.deepEqual(problems({ title: 'x'.repeat(MAX_TITLE), idempotent: false, destructive: false, readOnly: false }), []);
  t.deepEqual(problems({ destructive: true, idempotent: true }, READ_WRITE), []);
});

test('annotations: destructive: false beside a read-write mount is refused, naming the mount and the fix', (t) => {
  const found = problems({ destructive: false }, READ_WRITE);
  t.is(found.length, 1);
  t.regex(found[0]!, /^tools\[0\]\.annotations\.destructive: destructive: false cannot be claimed: permissions\.filesystem\[0\] is read-write/);
  t.deepEqual(problems({ destructive: false }, { filesystem: [{ path: '/tmp', mount: '/data', access: 'read' }] }), []);
});

test('annotations: an author cannot claim read-only (it follows from the grants), nor an overlong title, nor an unknown hint', (t) => {
  t.regex(problems({ readOnly: true }).join('\n'), /readOnly can only be set to false/);
  t.regex(problems({ title: 'x'.repeat(MAX_TITLE + 1) }).join('\n'), new RegExp(`a tool title is at most ${MAX_TITLE} characters`));
  t.regex(problems({ title: '' }).join('\n'), /a title is a short name/);
  t.regex(problems({ openWorld: false }).join('\n'), /unknown field "openWorld"/);
});
