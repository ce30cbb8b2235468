import test from 'ava';
import { DOCKER_NOFILE, DOCKER_NPROC, DOCKER_PIDS_LIMIT, limitsDocker } from '../../../src/capabilities/limits/docker.ts';
import { makeGrants } from '../../helpers/grants.ts';

test('memory with equal swap, CPU in nano-CPUs, pids, ulimits, a size-limited noexec /tmp', (t) => {
  const out = limitsDocker(makeGrants({ resources: { memoryBytes: 128 * 1024 * 1024, cpu: 0.25, outputBytes: 5000 } }));
  const h = out.hostConfig ?? {};
  t.is(h.Memory, 128 * 1024 * 1024);
  t.is(h.MemorySwap, h.Memory);
  t.is(h.NanoCpus, 250_000_000);
  t.is(h.PidsLimit, DOCKER_PIDS_LIMIT);
  t.deepEqual(h.Ulimits, [
    { Name: 'nofile', Soft: DOCKER_NOFILE, Hard: DOCKER_NOFILE },
    { Name: 'nproc', Soft: DOCKER_NPROC, Hard: DOCKER_NPROC },
  ]);
  t.is(h.Tmpfs?.['/tmp'], `rw,noexec,nosuid,nodev,size=${32 * 1024 * 1024}`);
  t.deepEqual(out.env, { AIRLOCK_OUTPUT_BYTES: '5000' });
});

test('memory below what Docker accepts is raised to its minimum', (t) => {
  t.is(limitsDocker(makeGrants({ resources: { memoryBytes: 1024 } })).hostConfig?.Memory, 6 * 1024 * 1024);
});
