import test from 'ava';
import { readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import { checkBaseImages, checkNode, formatCheck, supportedNode } from '../../src/doctor/index.ts';

test('the supported Node versions are package.json engines.node, the one place they are written', (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
  const s = supportedNode();
  t.is(s.range, pkg.engines.node);
  t.is(`>=${s.major}.${s.minor}`, pkg.engines.node.replace(/\s/g, ''));
});

test('checkNode: a Node older than engines.node is missing, with the version needed in the fix; the running one is found', (t) => {
  const { major, minor } = supportedNode();
  const old = checkNode('20.20.2');
  t.false(old.ok);
  t.regex(old.detail, /^20\.20\.2 at .* is older than >=/);
  t.regex(old.fix ?? '', new RegExp(`install Node ${major}\\.${minor} or newer`));
  t.false(checkNode(`${major}.${minor - 1}.0`).ok);
  t.true(checkNode(`${major}.${minor}.0`).ok);
  t.true(checkNode(`${major + 2}.0.0`).ok);
  t.true(checkNode().ok);
  t.regex(formatCheck(old), /^node +missing +20\.20\.2 .*\(fix: install Node/);
});

test('checkBaseImages: each base image present or missing with a pull/variable fix; nothing when Docker does not answer', async (t) => {
  const present = new Set(['present:1']);
  const fake = {
    getImage: (name: string) => ({
      inspect: async () => {
        if (!present.has(name)) throw new Error(`(HTTP code 404) no such image - No such image: ${name}`);
        return { Id: 'sha256:0123456789abcdef0123' };
      },
    }),
  } as unknown as Docker;
  const saved = { node: process.env.AIRLOCK_NODE_IMAGE, python: process.env.AIRLOCK_PYTHON_IMAGE };
  process.env.AIRLOCK_NODE_IMAGE = 'present:1';
  process.env.AIRLOCK_PYTHON_IMAGE = 'absent:2';
  try {
    const [node, python] = await checkBaseImages(fake);
    t.like(node, { name: 'image node', ok: true });
    t.regex(node?.detail ?? '', /^present:1 +sha256:/);
    t.like(python, { name: 'image python', ok: false });
    t.regex(python?.fix ?? '', /docker pull absent:2, or set AIRLOCK_PYTHON_IMAGE to a local image/);
    t.deepEqual(await checkBaseImages(fake, false), []);
  } finally {
    for (const [k, v] of [
      ['AIRLOCK_NODE_IMAGE', saved.node],
      ['AIRLOCK_PYTHON_IMAGE', saved.python],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
