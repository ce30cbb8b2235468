/**
 * Host-control sockets and data roots (Docker, containerd, CRI-O, Podman,
 * kubelet), /proc, /sys, /dev and the host root are refused as grants under
 * any policy: the path itself, a folder inside it, and a folder containing it.
 * Most of these paths do not exist on a test machine, so the overlap rule is
 * checked on the list itself (protectedOverlap is what computeGrants asks),
 * and end to end for the paths that exist here and for temp $XDG_RUNTIME_DIR
 * and $HOME folders.
 */
import test from 'ava';
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../../src/errors.ts';
import { computeGrants, policyFromObject } from '../../src/grants/index.ts';
import { protectedOverlap, protectedPaths } from '../../src/grants/protected.ts';
import { manifestObject, tempDir, writePlugin } from '../helpers/plugin.ts';

const ENV = { XDG_RUNTIME_DIR: '/run/user/1000', HOME: '/home/someone' };

/** Per class: the paths the brief names, and the words the refusal must use. */
const CLASSES: Array<{ name: string; what: RegExp; paths: string[] }> = [
  {
    name: 'Docker',
    what: /Docker/,
    paths: [
      '/var/run/docker.sock',
      '/run/docker.sock',
      '/var/lib/docker',
      '/run/docker',
      '/etc/docker',
      '/run/user/1000/docker.sock',
      '/home/someone/.local/share/docker',
    ],
  },
  { name: 'containerd', what: /containerd/, paths: ['/run/containerd', '/var/run/containerd', '/var/lib/containerd'] },
  { name: 'CRI-O', what: /CRI-O/, paths: ['/var/run/crio', '/run/crio', '/var/lib/containers'] },
  { name: 'Podman', what: /Podman/, paths: ['/run/podman', '/var/lib/containers', '/run/user/1000/podman', '/home/someone/.local/share/containers'] },
  { name: 'kubelet', what: /kubelet/, paths: ['/var/lib/kubelet', '/etc/kubernetes', '/run/kubernetes'] },
  { name: 'kernel', what: /kernel and device/, paths: ['/proc', '/sys', '/dev'] },
];

for (const c of CLASSES) {
  test(`host-control paths: ${c.name}: the path, a folder inside it and a folder containing it are each refused with the reason`, (t) => {
    const list = protectedPaths(ENV);
    for (const path of c.paths) {
      // Paths that exist here may have a canonical twin (/var/run -> /run); either form is refused.
      const exact = protectedOverlap(path, list);
      t.truthy(exact, path);
      t.regex(`${exact!.guarded.what}`, c.what, path);
      t.is(exact!.how, 'is', path);
      const inside = protectedOverlap(join(path, 'sub', 'dir'), list);
      t.is(inside?.how, 'is inside', path);
      t.regex(`${inside!.guarded.what}`, c.what, path);
      const parent = join(path, '..');
      // The parent of /proc is the host root, refused as itself.
      t.is(protectedOverlap(parent, list)?.how, parent === '/' ? 'is' : 'contains', `${parent} contains ${path}`);
      t.truthy(exact!.guarded.hint);
    }
  });
}

test('host-control paths: the host root is refused as itself; a parent such as /var is refused for what it contains', (t) => {
  const list = protectedPaths(ENV);
  t.deepEqual(protectedOverlap('/', list) && { how: protectedOverlap('/', list)!.how, what: protectedOverlap('/', list)!.guarded.what }, {
    how: 'is',
    what: 'the host root filesystem',
  });
  t.regex(protectedOverlap('/var', list)!.guarded.what, /Docker|containerd|CRI-O|Podman|kubelet/);
  t.is(protectedOverlap('/var', list)!.how, 'contains');
  t.is(protectedOverlap('/etc', list)!.how, 'contains');
  // Ordinary folders stay grantable.
  for (const ok of ['/srv/data', '/var/tmp/x', '/etc/ssl/certs', '/home/someone/projects', '/run/user/1000/other'])
    t.is(protectedOverlap(ok, list), undefined, ok);
});

function refused(t: import('ava').ExecutionContext, path: string, access: 'read' | 'read-write', policyRoot = '/'): string {
  const plugin = writePlugin(manifestObject({ permissions: { filesystem: [{ path, mount: '/x', access }] } }));
  const err = t.throws(() => computeGrants(plugin, policyFromObject({ filesystem: [{ path: policyRoot, access: 'read-write' }] })), {
    instanceOf: AirlockError,
  });
  t.is(err.code, 'permission-denied');
  return err.problems[0]!.message;
}

test('host-control paths: computeGrants refuses the ones that exist here, read and read-write, whatever the policy', (t) => {
  const here = [
    '/proc',
    '/sys',
    '/dev',
    '/proc/self',
    '/dev/shm',
    '/var/lib/docker',
    '/etc/docker',
    '/run/docker',
    '/run/containerd',
    '/var/lib/containerd',
    '/var/lib/containers',
    '/var/lib/kubelet',
  ].filter((p) => existsSync(p));
  t.true(here.includes('/proc') && here.includes('/dev'));
  for (const path of here) {
    for (const access of ['read', 'read-write'] as const)
      t.regex(refused(t, path, access), /(is|is inside) .*(kernel and device|Docker|containerd|CRI-O|Podman|kubelet)/, `${path} ${access}`);
  }
  t.regex(refused(t, '/', 'read'), /"\/" \(\/\) is the host root filesystem/);
  t.regex(refused(t, '/var', 'read'), /contains /);
});

test.serial('host-control paths: rootless sockets under $XDG_RUNTIME_DIR and storage under $HOME are refused', (t) => {
  const root = realpathSync(tempDir());
  const runtime = join(root, 'xdg');
  const home = join(root, 'home');
  mkdirSync(join(runtime, 'podman'), { recursive: true });
  writeFileSync(join(runtime, 'docker.sock'), '');
  mkdirSync(join(home, '.local/share/containers/storage'), { recursive: true });
  mkdirSync(join(home, 'projects'), { recursive: true });
  const saved = { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR, HOME: process.env.HOME, AIRLOCK_CACHE_DIR: process.env.AIRLOCK_CACHE_DIR };
  // Airlock's own cache elsewhere: under this HOME it would be refused first (it is host-control too), hiding the reason tested.
  Object.assign(process.env, { XDG_RUNTIME_DIR: runtime, HOME: home, AIRLOCK_CACHE_DIR: realpathSync(tempDir()) });
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  t.regex(refused(t, runtime, 'read', root), /contains Docker's state/);
  t.regex(refused(t, join(runtime, 'docker.sock'), 'read', root), /is Docker's state/);
  t.regex(refused(t, join(runtime, 'podman'), 'read-write', root), /is Podman's/);
  t.regex(refused(t, join(home, '.local/share/containers/storage'), 'read', root), /is inside Podman's/);
  t.regex(refused(t, home, 'read', root), /contains (Docker's|Podman's)/);
  const ok = computeGrants(
    writePlugin(manifestObject({ permissions: { filesystem: [{ path: join(home, 'projects'), mount: '/p', access: 'read-write' }] } })),
    policyFromObject({ filesystem: [{ path: root, access: 'read-write' }] }),
  );
  t.is(ok.filesystem.length, 1);
});
