import test from 'ava';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesystemDocker } from '../../../src/capabilities/filesystem/docker.ts';
import { makeGrants } from '../../helpers/grants.ts';

test('each grant becomes one bind mount, read-only unless granted read-write', (t) => {
  // Real folders: the bind source is checked again whenever it is read (./swap.test.ts).
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'airlock-bind-')));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const [input, output] = [join(root, 'in'), join(root, 'out')];
  mkdirSync(input);
  mkdirSync(output);
  const out = filesystemDocker(
    makeGrants({
      filesystem: [
        { hostPath: input, mount: '/in', access: 'read' },
        { hostPath: output, mount: '/out', access: 'read-write' },
      ],
      unboundedWrites: ['docker'],
    }),
  );
  t.deepEqual(out.refuse, []);
  t.deepEqual(out.deny, []);
  t.deepEqual(JSON.parse(JSON.stringify(out.mounts)), [
    { Type: 'bind', Source: input, Target: '/in', ReadOnly: true, BindOptions: { Propagation: 'rprivate' } },
    { Type: 'bind', Source: output, Target: '/out', ReadOnly: false, BindOptions: { Propagation: 'rprivate' } },
  ]);
});

test('a read-write grant is denied unless the policy accepts unbounded writes on Docker: a bind mount has no size', (t) => {
  const grants = makeGrants({
    filesystem: [
      { hostPath: '/srv/in', mount: '/in', access: 'read' },
      { hostPath: '/srv/out', mount: '/out', access: 'read-write' },
    ],
    resources: { diskBytes: 64 << 20, files: 1000 },
  });
  const out = filesystemDocker(grants);
  t.deepEqual(
    out.mounts?.map((m) => m.Target),
    ['/in'],
  );
  t.is(out.deny?.length, 1);
  t.regex(
    out.deny?.[0] ?? '',
    /\/srv\/out is granted read-write at \/out, but Docker cannot hold the plugin to resources\.disk \(64Mi\) and resources\.files \(1000\).*list docker in unboundedWrites in the host policy/,
  );
  t.is(filesystemDocker({ ...grants, unboundedWrites: ['wasmtime'] }).deny?.length, 1, "wasmtime's opt-out does not open Docker");
});

test('no grant, no mount', (t) => {
  t.deepEqual(filesystemDocker(makeGrants()).mounts, []);
});

test('a folder holding the Docker socket is refused, however it is reached', (t) => {
  for (const hostPath of ['/var/run/docker.sock', '/var/run', '/run', '/var', '/']) {
    const out = filesystemDocker(makeGrants({ filesystem: [{ hostPath, mount: '/data', access: 'read' }] }));
    t.deepEqual(out.mounts, [], hostPath);
    t.regex(out.refuse?.[0] ?? '', /Docker socket/, hostPath);
  }
  t.deepEqual(filesystemDocker(makeGrants({ filesystem: [{ hostPath: '/var/lib/data', mount: '/data', access: 'read' }] })).refuse, []);
});

test('mounts over the container’s own folders are refused', (t) => {
  for (const mount of ['/airlock', '/airlock/plugin', '/tmp', '/proc/x', '/dev', '/home/airlock', '/home/airlock/data']) {
    const out = filesystemDocker(makeGrants({ filesystem: [{ hostPath: '/srv/x', mount, access: 'read' }] }));
    t.deepEqual(out.mounts, [], mount);
    t.regex(out.refuse?.[0] ?? '', /needs for itself/, mount);
  }
  t.deepEqual(filesystemDocker(makeGrants({ filesystem: [{ hostPath: '/srv/x', mount: '/airlock-data', access: 'read' }] })).refuse, []);
});
