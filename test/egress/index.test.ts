/** The egress module's place: below capabilities and engines, and mountable alone in a container. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const dir = fileURLToPath(new URL('../../src/egress/', import.meta.url));
const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

test('src/egress imports nothing from engines or capabilities, and at run time only its own folder, node: builtins and ipaddr.js', async (t) => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts'));
  t.true(files.includes('main.ts') && files.includes('server.ts'));
  const bad: string[] = [];
  let seen = 0;
  for (const f of files) {
    const text = await readFile(path.join(dir, f), 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      seen++;
      const [, , typeOnly, spec = ''] = m;
      if (/\/(engines|capabilities)\//.test(spec)) bad.push(`${f}: ${spec}`);
      else if (typeOnly === undefined && !(spec.startsWith('./') || spec.startsWith('node:') || spec === 'ipaddr.js'))
        bad.push(`${f}: ${spec} (a run-time import from outside the folder)`);
    }
  }
  t.true(seen > 20, `only ${seen} imports found: the pattern no longer matches this code`);
  t.deepEqual(bad, []);
});
