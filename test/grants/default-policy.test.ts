/**
 * The default host policy is remembered (src/grants/default-policy.ts): a
 * fresh process gets the very policy the schema gives, without loading zod.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultPolicy } from '../../src/grants/default-policy.ts';
import { defaultPolicy as parsedDefault } from '../../src/grants/policy.ts';
import { tempDir } from '../helpers/plugin.ts';

const ROOT = new URL('../../', import.meta.url);
// This test file's own cache (ava runs each file in its own thread, with its own environment).
process.env.AIRLOCK_CACHE_DIR = tempDir('airlock-cache-');

test.serial('the default policy recalled is the one the schema gives, its paths resolved here', (t) => {
  const parsed = parsedDefault();
  t.deepEqual(defaultPolicy(), parsed);
  t.is(defaultPolicy().baseDir, process.cwd());
});

test.serial('a fresh process gets the default policy without loading zod or yaml', async (t) => {
  const expected = parsedDefault();
  const trace = join(tempDir(), 'trace.txt');
  const script = `const { defaultPolicy } = await import(${JSON.stringify(new URL('src/grants/default-policy.ts', ROOT).href)}); process.stdout.write(JSON.stringify(defaultPolicy()));`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [`--import=${new URL('test/helpers/module-trace.ts', ROOT).href}?out=${trace}`, '--input-type=module', '-e', script],
    { env: process.env, cwd: process.cwd(), timeout: 90_000 },
  );
  t.deepEqual(JSON.parse(stdout), JSON.parse(JSON.stringify(expected)));
  const loaded = readFileSync(trace, 'utf8');
  t.true(loaded.includes('src/grants/default-policy.ts'), 'the trace sees the module');
  t.notRegex(loaded, /node_modules\/(zod|yaml)\//);
});
