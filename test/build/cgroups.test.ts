/**
 * A build step's cgroups (as root): made with their limits, joined by the
 * step, and removed once it ends, even when the CLI exits right after.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { stepCgroups } from '../../src/build/cgroups.ts';

const root = process.getuid?.() === 0 && existsSync('/sys/fs/cgroup');

(root ? test : test.skip)('a step gets pids and memory cgroups with its limits, removed after a process in them exits', async (t) => {
  const c = stepCgroups(33, 123 * 1024 * 1024);
  t.true(c.pids);
  t.true(c.dirs.length > 0);
  const limits = c.dirs.flatMap((d) =>
    ['pids.max', 'memory.limit_in_bytes', 'memory.max'].filter((f) => existsSync(`${d}/${f}`)).map((f) => readFileSync(`${d}/${f}`, 'utf8').trim()),
  );
  t.true(limits.includes('33'));
  t.true(limits.includes(String(123 * 1024 * 1024)));
  const r = spawnSync('/bin/sh', ['-c', 'for d in $CGROUPS; do echo $$ > "$d/cgroup.procs" || exit 125; done; exec true'], {
    env: { CGROUPS: c.dirs.join(' ') },
  });
  t.is(r.status, 0);
  t.is(c.hit(), null);
  await c.remove();
  for (const d of c.dirs) t.false(existsSync(d), d);
});
