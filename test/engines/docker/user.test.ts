/**
 * The plugin's user exists in its image: uid 10001 has passwd and group entries and a home, so the user
 * look-ups libraries make (os.userInfo(), getpass.getuser(), pwd, `~`) work, and the home is writable. The
 * hardening stays: the home is a size-limited tmpfs like /tmp, the root filesystem is still read-only.
 */
import test from 'ava';
import { CONTAINER_HOME } from '../../../src/capabilities/limits/docker.ts';
import { dockerRunSpec } from '../../../src/engines/docker/options.ts';
import { DOCKER, engine, grantsFor } from './helpers.ts';

const t = DOCKER ? test : test.skip;
const docker = engine();
test.after.always(() => docker.close());

/** `size=` of a tmpfs's mount options in bytes (the kernel prints k/m/g suffixes). */
function sizeOf(options: string): number {
  const m = /(?:^|,)size=(\d+)([kmg]?)/.exec(options);
  if (m === null) return Number.NaN;
  return Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[m[2] ?? '']!;
}

test('the home is a size-capped tmpfs owned by the plugin user, beside /tmp, on a read-only root', (t) => {
  const { hostConfig } = dockerRunSpec(grantsFor('whoami-node'));
  t.true(hostConfig.ReadonlyRootfs);
  const home = hostConfig.Tmpfs?.[CONTAINER_HOME] ?? '';
  t.regex(home, /(^|,)noexec(,|$)/);
  t.regex(home, /(^|,)nosuid(,|$)/);
  t.regex(home, /(^|,)uid=10001,gid=10001,mode=0700(,|$)/);
  t.true(sizeOf(home) > 0 && sizeOf(home) <= (128 * 1024 * 1024) / 4, home);
});

t('a node plugin finds its user with os.userInfo() and writes to its home; the root stays read-only', async (t) => {
  const p = await docker.load(grantsFor('whoami-node'));
  const r = JSON.parse((await p.call('whoami', '{}')).output) as Record<string, unknown> & {
    homeMount: { type: string; options: string };
    rootOptions: string;
  };
  t.like(r, { username: 'airlock', uid: 10001, gid: 10001, homedir: CONTAINER_HOME, HOME: CONTAINER_HOME, readBack: 'written at home' });
  t.is(r.homeMount.type, 'tmpfs');
  t.true(sizeOf(r.homeMount.options) > 0, r.homeMount.options);
  t.regex(r.rootOptions, /^ro(,|$)/);
  await p.close();
});

t('a python plugin finds its user with getpass.getuser() and pwd.getpwuid(), and writes to ~; the root stays read-only', async (t) => {
  const p = await docker.load(grantsFor('whoami-python'));
  const r = JSON.parse((await p.call('whoami', '{}')).output) as Record<string, unknown> & {
    homeMount: { type: string; options: string };
    rootOptions: string;
  };
  t.like(r, {
    username: 'airlock',
    pw_name: 'airlock',
    uid: 10001,
    gid: 10001,
    group: 'airlock',
    homedir: CONTAINER_HOME,
    HOME: CONTAINER_HOME,
    expanduser: CONTAINER_HOME,
    readBack: 'written at home',
  });
  t.is(r.homeMount.type, 'tmpfs');
  t.true(sizeOf(r.homeMount.options) > 0, r.homeMount.options);
  t.regex(r.rootOptions, /^ro(,|$)/);
  await p.close();
});
